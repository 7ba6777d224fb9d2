"""SHA-256 of every runner file the studio has shipped in bundles (from `git log -p`).

A bundle's ``runner/`` is code that runs on the device. Only these exact files are run without
``--trust-bundle-runner``; tests/devices/test_runner_trust.py fails when the studio's current
runner sources are missing here, so add a line whenever studio/runner/runner.py or
studio/core/generate/llm_runner.py changes (keep the old lines: bundles made earlier carry them).
"""

from __future__ import annotations

KNOWN_RUNNERS: dict[str, frozenset[str]] = {
    # studio/runner/runner.py
    "runner/runner.py": frozenset(
        {
            "9743aaecc4182582e413c627148d0a4032ffa8d5330c2970dcebc9c3dd6f68d9",  # 40af6e8 1.0
            "42a0a27c78d4d53fb83e67de1a23feaca1de7fae7c47c486713909f25a7c9f6d",  # d8e7db6 1.1
            "9bbbb0ec090104595d80fe7618b9dead15dc8cdbceeb369e712737df7349a5c5",  # 6fc7305 format
            "4aa2be1e369e3fe449a059f29830e5120fc590e6554f3fe0c0b5d4571fbabfe3",  # core grouped into packages (docstring path)
            "aaa6081f8b4b01a2895c3326e60aa6b0df46c71dcac9661e3a5be0da4ffdc933",  # compiled bundles load with the QNN EP (#19)
            "5540cfbe463b4f955f00d9e02c155ee32ef358f3414d1e49133417c6c779ca7c",  # hello mode for device-setup (#26)
        }
    ),
    # studio/core/generate/llm_runner.py, copied into LLM bundles as the generate hook
    "runner/generate.py": frozenset(
        {
            "06ddb671ecbd6f484eefc458fd6326f5ce9cf6f28d059e575e3eda7a98eca16b",  # 0c64e27
            "ffb48da2ae333a70b9eee590b00cab6688d00bfe023102c9a89ffa84232f1ad4",  # dc653f6
            "9652b5a16f8e2089a697b22243ba4dad342ce6e428a333846ad7347de725f76a",  # d139ac5
            "94678c4a40f310e2ddaa900e04839cb304e6014d51395f6606eb84722b3a3ba4",  # 60d9128
            "72a8a8776d067ec4dc48ef13ee456a333ad79eebf22f322747211c4a4b9b068e",  # d8e7db6
            "bcdcf7dbf0f505d5b1a819621a65e21144e7fa44982f4d857574b0321ead9fbe",  # 5f00012
            "6a3188cfe26b9cb8be1f1c18f038bd50641977430db6a7e3b410f6ce47cee236",  # 6eb00e4
            "6e7d72442c038f4e018699d1b3a7d6d1f3888c2d064a50094c46563342e483f3",  # b89c12a
            "d5afb3ccb09a91767c9391540b906d32483e7de9eab944e1333d2cd9c9ecdb40",  # 3f89521
            "17f5dbf75bffd6c1af5c654586f1573558c8f6bf07c4e7d989b45bc9a976facf",  # 6fc7305 format
            "6185cbc27df6600203dbcf79477b3017f15f43ce6933c7be176689b91ad57a7f",  # fd4b389 sliding windows
            "4a66ccf0aa3d94ad60570d6462a6dba738e615ac9ebbe77ad5e0014a82a671d8",  # cac2dc5 comments
        }
    ),
    # studio/runner/openvino_npu.py and nnapi.py, added by `studio compile` (#20)
    "runner/openvino_npu.py": frozenset(
        {"5a0a65ffa5a968e7c53606aac2f4669f49da5ddc93ea49b800c070bb3537e7e1"}  # first version
    ),
    "runner/nnapi.py": frozenset(
        {"2194cb94b5cb4141633af85b710df5d9c57866ba845f0b5b30eefe3dd061d0a2"}  # first version
    ),
}

"""The background sender: uploads the spooled runs, then exits (started by ``spool.deliver``).

Runs on its own, after the job that spooled the run has returned; a failure leaves the runs in
the spool for the next sender and is shown to nobody (the job already said what it could).
"""

from __future__ import annotations

from studio.core.privacy import keep_private


def main() -> int:
    keep_private()
    from studio.core.track import spool, store

    with spool.sender_lock() as mine:
        if not mine:
            return 0
        try:
            client, experiment = store.open_store()
            # Runs spooled while this one was sending are sent too, before the lock is let go.
            while spool.flush(client, experiment):
                pass
        except Exception:
            return 1
    # A run spooled between the last flush and the lock's release started no sender of its own.
    if spool.pending() and not spool.probe():
        spool.start_sender()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

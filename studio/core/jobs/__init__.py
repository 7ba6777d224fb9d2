"""Run long work in a child process that streams progress, logs and a typed result back.

A crash in a native library (segfault, OOM kill) ends only the child; the caller gets a
``JobFailed`` naming what happened. Cancelling terminates the child and removes its partial outputs.
"""

from studio.core.jobs.messages import (
    ErrorMessage,
    EventMessage,
    JobMessage,
    LogMessage,
    ProgressMessage,
    ResultMessage,
)
from studio.core.jobs.runner import JobHandle, JobSpec, JobState, run_job

__all__ = [
    "ErrorMessage",
    "EventMessage",
    "JobHandle",
    "JobMessage",
    "JobSpec",
    "JobState",
    "LogMessage",
    "ProgressMessage",
    "ResultMessage",
    "run_job",
]

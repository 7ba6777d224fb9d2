"""Edge Deploy Studio: put models onto phones, AI PCs and edge boards."""

__version__ = "0.1.0"

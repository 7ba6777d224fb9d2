"""Open and describe a model: load and check it, summary, precision, convert, fix shapes."""

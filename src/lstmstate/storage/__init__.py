"""The disk: atomic files, and the run folder that every command writes and reads."""

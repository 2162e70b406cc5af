"""What people look at: figures, the report, numbers formatted one way, progress bars."""

"""The doctor's checks, one module per area; each function takes the `Doctor` and returns Checks."""

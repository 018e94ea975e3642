"""Rule sets of the inspection core. Importing a module declares its rules."""

# A trial script for the sweep body specs: only uploaded, never run.
print("trial")

"""Fixed questions and the scores computed from them (calibration here; the full suite later)."""

"""The eval suite: fixed questions, their scores and the gate (`swguide eval`), and the
calibrations of abstention and of the support checker."""

"""Input checks and scaling shared by the estimators."""

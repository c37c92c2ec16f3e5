"""scikit-learn estimators built on the models and the training loop."""

"""Kaggle-style tasks: a program's predictions scored on hidden labels, public and private."""

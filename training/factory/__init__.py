"""The model factory every model uses: snapshot plans, the leak guard, MLflow logging and promotion,
champion loading with a signature check (DESIGN.md §7)."""

"""One folder per CI or grading platform (GitHub Actions, Classroom 50, Gradescope): its renderer,
its exporter and its templates together, since they change together when the platform's contract changes."""

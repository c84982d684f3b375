# The README's commands, and the habits around them.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench readme

$(PY):
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -q -e '.[test]'

demo: $(PY)
	$(VENV)/bin/convanim conv -i 5 -k 3 -s 2 -p 1 -o demo.gif

test: $(PY)
	$(PY) -m pytest

lint: $(PY)
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(PY) -m mypy

bench: $(PY)
	$(PY) benchmarks/run.py

# The option tables in the README, regenerated from the kinds' declarations.
readme: $(PY)
	$(PY) tools/readme_tables.py

# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MO     := launch/translations/vi/LC_MESSAGES/messages.mo
export FLASK_APP := app.py

.PHONY: run test setup lint translations extract-messages bench clean db

$(STAMP): requirements.txt requirements-dev.txt requirements-bench.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	# the bench's load client too: `make test` runs the bench's smoke test
	$(BIN)/pip install --quiet -r requirements-bench.txt -c constraints.txt
	touch $(STAMP)

$(MO): launch/translations/vi/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -d launch/translations

setup: $(STAMP) $(MO)

db: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load

## Serve the embedded default (SQLite, one process, scheduler in-process) on http://127.0.0.1:5000
## (SECRET_KEY unset: a random key kept in instance/secret_key. HOST beyond loopback: the published
## development key is refused and the demo accounts get random passwords, printed once.)
run: db
	@echo "Serving on http://$${HOST:-127.0.0.1}:$${PORT:-5000}  (Ctrl+C to stop)"
	$(BIN)/python app.py

## The whole suite (SQLite and, where it answers, PostgreSQL at 127.0.0.1:5432: databases named from $PG_TEST_DB)
test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

## Re-extract the translatable strings and merge them into the catalogues
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o launch/translations/messages.pot .
	$(BIN)/pybabel update -i launch/translations/messages.pot -d launch/translations --no-fuzzy-matching

## Benchmark every mode and baseline in one run (BENCH_ARGS="--quick" for a smoke run; see bench/run.py --help)
bench: setup
	$(BIN)/pip install --quiet -r requirements-bench.txt -c constraints.txt
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache

# Two commands: `make demo` and `make test`. Everything else is operations.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: lock sbom demo demo-reset test audit lint install install-test migrate seed users browser pdf-tools serve backup restore clean token token-user uswds

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Dependencies come from the hashed lock files (every package, transitive ones too, pinned with
# its sha256: pip refuses any other file); the project itself is then installed without
# resolving again, and `pip check` fails when pyproject.toml needs something the lock lacks
# (run `make lock`).
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock

$(STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	touch $@

$(TEST_STAMP): pyproject.toml $(TEST_LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/pip install --quiet --no-deps -e ".[test]"
	$(BIN)/pip check
	touch $@ $(STAMP)

# Regenerate both lock files from pyproject.toml after changing a dependency. The versions
# already installed are kept where they satisfy it (so the lock is what the suite ran on).
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv==0.13.8
	$(BIN)/pip freeze --exclude-editable > $(VENV)/installed-constraints.txt
	$(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --universal --python-version 3.11 \
		-c $(VENV)/installed-constraints.txt -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra test --quiet --generate-hashes --universal \
		--python-version 3.11 -c $(VENV)/installed-constraints.txt -o $(TEST_LOCK)

# A CycloneDX SBOM (JSON) of what production installs: every package of requirements.lock.
sbom: install-test
	$(BIN)/cyclonedx-py requirements $(LOCK) --output-format JSON --output-file sbom.cdx.json
	@echo "Wrote sbom.cdx.json"

install: $(STAMP)
install-test: $(TEST_STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

# The seed goes only into an empty register: a second `make demo` keeps every edit.
seed: migrate
	$(BIN)/python manage.py seed_demo

users: migrate
	DJANGO_DEBUG=1 $(BIN)/python manage.py create_demo_users

demo: pdf-tools seed users
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The demo runs with debug on throughout (migrate and seed too), so the trigger log is signed
# with the development key, created on first use at .keys/trigger-log-dev.pem.
demo demo-reset: export DJANGO_DEBUG ?= 1

# Start the demo over. The old SQLite file is moved aside (never deleted), after a yes or FORCE=1.
demo-reset: install
	@test -z "$$DATABASE_URL" || { echo "demo-reset works on the demo's SQLite file only; DATABASE_URL is set."; exit 2; }
	@if [ "$(FORCE)" != "1" ]; then \
	  printf 'Start the demo over? db.sqlite3 is moved to backups/ first. Type yes: '; \
	  read answer; [ "$$answer" = yes ] || { echo "Nothing changed."; exit 1; }; \
	fi
	@mkdir -p backups && chmod 700 backups
	@if [ -f db.sqlite3 ]; then \
	  kept=backups/db-$$(date -u +%Y%m%dT%H%M%SZ).sqlite3; mv db.sqlite3 $$kept; chmod 600 $$kept; \
	  echo "The old register is kept at $$kept."; \
	fi
	$(MAKE) --no-print-directory seed users

# The browser tests drive Debian's Chromium; install it when it is missing (needs root).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }

# The PDF board pack: WeasyPrint lays out with Pango in Debian's fonts; the tests read the PDF
# back with poppler (pdftotext, pdfinfo). Installed when missing (needs root), like Chromium.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-liberation poppler-utils
pdf-tools:
	@dpkg -s $(PDF_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $(PDF_PACKAGES) >/dev/null; }

node_modules/axe-core/axe.min.js node_modules/@uswds/uswds/package.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

# The U.S. Web Design System's compiled CSS, JS, and the fonts and images its CSS names, copied
# from npm into static/vendor/uswds/ and committed: `make demo` and `make serve` need no npm and
# no build step. Run after changing @uswds/uswds's version in package.json. Source-map comments
# are dropped (the maps are not shipped, and collectstatic's manifest would look for them).
USWDS_DIST := node_modules/@uswds/uswds/dist
USWDS_STATIC := static/vendor/uswds
uswds: node_modules/@uswds/uswds/package.json
	rm -rf $(USWDS_STATIC)
	mkdir -p $(USWDS_STATIC)/css $(USWDS_STATIC)/js $(USWDS_STATIC)/img
	sed '/sourceMappingURL/d' $(USWDS_DIST)/css/uswds.min.css > $(USWDS_STATIC)/css/uswds.min.css
	for f in uswds.min.js uswds-init.min.js; do sed '/sourceMappingURL/d' $(USWDS_DIST)/js/$$f > $(USWDS_STATIC)/js/$$f; done
	cd $(USWDS_DIST)/css && grep -o 'url([^)]*)' uswds.min.css | sed 's/^url(//; s/)$$//; s/["'\'']//g; s/[?#].*//' \
	  | grep '^\.\./' | sort -u | while read ref; do \
	    mkdir -p "$(CURDIR)/$(USWDS_STATIC)/css/$$(dirname $$ref)"; cp "$$ref" "$(CURDIR)/$(USWDS_STATIC)/css/$$ref"; done
	cp $(USWDS_DIST)/img/favicons/favicon.ico static/root/favicon.ico
	cp node_modules/@uswds/uswds/LICENSE.md $(USWDS_STATIC)/LICENSE.md
	node -p 'require("./node_modules/@uswds/uswds/package.json").version' > $(USWDS_STATIC)/VERSION

test: install-test browser pdf-tools node_modules/axe-core/axe.min.js node_modules/@uswds/uswds/package.json
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q

# Static security checks: bandit on our code, pip-audit on the installed dependency set.
audit: install-test
	$(BIN)/bandit -q -r config common accounts risks roadmap tools -x '*/migrations/*'
	$(BIN)/pip-audit --progress-spinner off --require-hashes --disable-pip -r $(TEST_LOCK)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Production-style serving: gunicorn, static files by WhiteNoise, debug off. The access log is
# the app's own (logger "access": request id, user, real client address), not gunicorn's.
# Set DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and (behind TLS) DJANGO_HTTPS=1.
WORKERS ?= $(shell echo $$(( $$(nproc) * 2 + 1 )))
serve: pdf-tools migrate
	DJANGO_STATIC_MANIFEST=1 $(BIN)/python manage.py collectstatic --noinput -v0
	DJANGO_STATIC_MANIFEST=1 $(BIN)/gunicorn config.wsgi --config python:config.gunicorn \
		--bind $(HOST):$(PORT) --workers $(WORKERS) --timeout 60

# A dated, compressed dump of every record (vendor-neutral JSON); see README for pg_dump.
BACKUP_DIR ?= backups
# Encrypted to BACKUP_RECIPIENT (age); refuses without it unless DEMO_KEY=1 (local demo only).
backup: install
	$(BIN)/python manage.py backup_register --output $(BACKUP_DIR)/register-$$(date -u +%Y%m%dT%H%M%SZ).json.gz.age $(if $(DEMO_KEY),--demo-key)

restore: migrate
	@test -n "$(FILE)" -a -n "$(KEY)" || { echo "usage: make restore FILE=backups/register-....json.gz.age KEY=path/to/backup.agekey"; exit 2; }
	$(BIN)/python manage.py restore_register "$(FILE)" --key "$(KEY)"

# A new API token for USER, printed as the last line; it expires after API_TOKEN_TTL_DAYS
# (default 90). USER must be given on the command line, not taken from the shell's $USER.
token: token-user migrate
	@$(BIN)/python manage.py create_token "$(USER)" --name "$(or $(NAME),make token)" $(if $(DAYS),--days $(DAYS))

token-user:
	@test "$(origin USER)" = "command line" || { echo "usage: make token USER=<username> [NAME=...] [DAYS=...]"; exit 2; }

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

# Speed at scale, on PostgreSQL only (docs/benchmarks.md). DATABASE_URL defaults to
# postgres://postgres@127.0.0.1:5432/bench, dropped and rebuilt (migrate, seed,
# generate_register --risks 10000) when it lacks the generated risks. `make load` serves it
# with gunicorn and drives it with wrk. Extra options: BENCH_ARGS=..., LOAD_ARGS=...
.PHONY: bench load bench-import
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# This tree against an older commit (BASE, default 87271a0), side by side at 10,000 risks
# (bench/compare.py; a worktree in .bench-base/, databases bench and bench_base).
.PHONY: bench-compare
bench-compare: install
	$(BIN)/python bench/compare.py $(if $(BASE),--base $(BASE)) $(COMPARE_ARGS)

# The register import at 10,000 rows, from CSV and from XLSX (as exported and as Excel saves it),
# and 20,000 rows of XLSX (bench/import_register.py; DATABASE_URL defaults to
# postgres://postgres@127.0.0.1:5432/import_bench, built like bench). IMPORT_ARGS=--edit-rows 1000
bench-import: install
	$(BIN)/python bench/import_register.py $(IMPORT_ARGS)

# Two app servers through PgBouncer (transaction pooling) on one database and one Redis,
# driven together (bench/scale_test.py, tests/scale/). Needs PostgreSQL on 127.0.0.1:5432 and
# Redis on 127.0.0.1:6379; installs Debian's PgBouncer when it is missing (needs root).
# SCALE_DATABASE (default scale_test) is dropped and rebuilt; SCALE_REDIS_DB defaults to 11.
.PHONY: scale-test pgbouncer
pgbouncer:
	@test -x /usr/sbin/pgbouncer || command -v pgbouncer >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq pgbouncer >/dev/null; }

scale-test: install-test pgbouncer
	$(BIN)/python bench/scale_test.py

load: install
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/load.py --workers $(WORKERS) $(LOAD_ARGS)

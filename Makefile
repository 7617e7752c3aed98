# Thin wrappers. The stack runs as local background processes (pids and logs under .run/);
# docker-compose.yml describes the same stack with the real images.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
UV := $(shell command -v uv 2>/dev/null || echo .tools/uv/bin/uv)
RUN := $(UV) run --frozen
S3RVER_VERSION := 3.7.1
# PyPI's `milvus`: a real Milvus standalone server (the newest with a Linux x86-64 wheel)
MILVUS_SERVER_VERSION := 2.3.5

.PHONY: help setup up reindex down status demo screenshots test test-unit test-milvus monitoring-check lint fmt clean compose-check bench bench-embed bench-ingest bench-search bench-relevance bench-browse bench-duplicates bench-enrich bench-saved bench-webhooks bench-cdn bench-hostile bench-memory bench-tracing train-model calibrate-tags-offline

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: ## install what is missing (apt: redis, nginx, node, chromium; uv; Python deps; s3rver)
	@missing=""; \
	  command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	  command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  python3 -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	  if [ -n "$$missing" ]; then echo "apt-get install$$missing"; \
	    $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	@[ -x "$(UV)" ] || command -v uv >/dev/null || { python3 -m venv .tools/uv && .tools/uv/bin/pip install -q uv; }
	$(UV) sync --frozen
	@[ -x .tools/node_modules/.bin/s3rver ] || npm install --prefix .tools --no-audit --no-fund --silent s3rver@$(S3RVER_VERSION)

up: setup ## start the whole stack in the background and wait until every part answers (MODEL=…: the embedding model, a folder or Hugging Face id; else EMBEDDING_MODEL in the environment, else the offline model)
	$(RUN) python -m imagesearch_dev.localstack up $(if $(MODEL),--model "$(MODEL)")

reindex: setup ## embed the whole library again with MODEL and make it live (the stack up); then `make down` and `make up MODEL=…`
	@[ -n "$(MODEL)" ] || { echo "give the model: make reindex MODEL=…"; exit 2; }
	$(RUN) reindex --model "$(MODEL)"

down: ## stop every process `make up` started
	@[ -x "$(UV)" ] || command -v uv >/dev/null || { echo "nothing to stop"; exit 0; }; \
	  $(RUN) python -m imagesearch_dev.localstack down

status: ## which processes of the stack run
	$(RUN) python -m imagesearch_dev.localstack status

demo: setup ## the main job: the stack on the offline model, sample images ingested through the API, searched by text
	@EMBEDDING_MODEL= $(MAKE) --no-print-directory up MODEL=
	$(RUN) python -m imagesearch_dev.demo

screenshots: setup ## the README's pictures of the page from the demo's own flow (after make demo) -> frontend/screenshots/
	$(RUN) python -m imagesearch_dev.screenshots

test: setup ## all tests (unit, integration, end-to-end); they start their own servers
	$(RUN) pytest

test-unit: setup ## unit tests only (no servers)
	$(RUN) pytest tests/unit

test-milvus: setup ## the vector adapter's conformance tests on milvus-lite and on a real Milvus server
	@[ -x .tools/milvus-server/bin/milvus-server ] || { $(UV) venv -q .tools/milvus-server && \
	  VIRTUAL_ENV=.tools/milvus-server $(UV) pip install -q milvus==$(MILVUS_SERVER_VERSION); }
	$(RUN) pytest tests/conformance --milvus-lanes=lite,server

bench: bench-embed bench-ingest bench-search bench-relevance bench-browse bench-duplicates bench-enrich bench-saved bench-webhooks bench-cdn bench-hostile bench-memory ## every benchmark (results under tests/bench/results/)

bench-embed: setup ## embedder and ingest throughput -> tests/bench/results/embed.{json,md}
	$(RUN) python -m tests.bench.embed $(BENCH_ARGS)

bench-ingest: setup ## the bulk ingest command on 500 small photos -> tests/bench/results/ingest_cli.{json,md}
	$(RUN) python -m tests.bench.ingest_cli

bench-search: setup ## vector search at 100k and 1M, and text search end to end -> tests/bench/results/search.{json,md} (~25 min)
	$(RUN) python -m tests.bench.search

bench-relevance: setup ## recall@1/5/10 and MRR of meaning, keywords and the fused box on a labelled set -> tests/bench/results/relevance.{json,md}
	$(RUN) python -m tests.bench.relevance

bench-browse: setup ## the timeline, /stats and deletes at 100k images -> tests/bench/results/browse.{json,md}
	$(RUN) python -m tests.bench.browse

bench-duplicates: setup ## precision and recall of the duplicate tiers on a labelled set -> tests/bench/results/duplicates.{json,md}
	$(RUN) python -m tests.bench.duplicates

bench-enrich: setup ## how right enrichment is on generated labelled sets (the country of GPS points near borders) -> tests/bench/results/enrich.{json,md}
	$(RUN) python -m tests.bench.enrich

bench-saved: setup ## the worker's cost of matching a new image against 10 / 100 / 1,000 saved searches -> tests/bench/results/saved.{json,md}
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(RUN) python -m tests.bench.saved

bench-webhooks: setup ## 10,000 pending webhook deliveries: Redis bytes each, the deliverer's memory, a slow receiver's rate -> tests/bench/results/webhooks.{json,md}
	$(RUN) python -m tests.bench.webhooks

bench-hostile: setup ## hostile inputs against the running stack: RSS, search p50, statuses -> tests/bench/results/hostile.{json,md}
	$(RUN) python -m tests.bench.hostile

bench-cdn: setup ## image delivery: nginx file, S3, cdnapi, nginx cache (wrk) -> tests/bench/results/cdn.{json,md}
	@command -v wrk >/dev/null || $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
	$(RUN) python -m tests.bench.cdn

bench-memory: setup ## each service's peak memory under load with the production model's size -> tests/bench/results/memory.{json,md}
	$(RUN) python -m tests.bench.memory

bench-tracing: setup ## ingest throughput with traces on and off, in one run -> tests/bench/results/tracing.{json,md}
	$(RUN) python -m tests.bench.tracing

train-model: setup ## retrain the offline model into shared/models/tiny-clip (about 11 min on 2 cores)
	$(RUN) python -m imagesearch_dev.training.train shared/models/tiny-clip

calibrate-tags-offline: setup ## calibrate the offline model's auto-tags on its own scenes -> shared/models/tiny-clip/auto_tags.json
	rm -rf .run/tag-set && $(RUN) python -m imagesearch_dev.tag_set .run/tag-set --per-kind 2
	$(RUN) calibrate-tags --model shared/models/tiny-clip --folder .run/tag-set \
		--about "3,360 synthetic scenes (python -m imagesearch_dev.tag_set, --per-kind 2): one to three shapes of one colour on a plain background; tags: 8 colours, 5 shapes"

lint: ## ruff and mypy
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy shared/shared shared/devtools/imagesearch_dev ingestapi/ingestapi ingestapi/client/ingestclient ingestworker/ingestworker searchapi/searchapi cdnapi/cdnapi tests

fmt: ## format the code
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

compose-check: ## validate docker-compose.yml (needs only a compose client, no engine)
	@if docker compose version >/dev/null 2>&1; then dc="docker compose"; \
	  elif command -v docker-compose >/dev/null; then dc=docker-compose; \
	  else echo "no compose client: apt-get install docker-compose" >&2; exit 1; fi; \
	  $$dc -f docker-compose.yml --env-file .env.example config -q && \
	  $$dc -f docker-compose.yml --env-file .env.example --profile flower config -q && \
	  $$dc -f docker-compose.yml --env-file .env.example --profile monitoring --profile tracing config -q && \
	  $$dc -f docker-compose.yml -f docker/compose.gpu.yml --env-file .env.example config -q && \
	  echo "docker-compose.yml is valid (also with the flower, monitoring and tracing profiles and docker/compose.gpu.yml)"

monitoring-check: ## promtool checks the Prometheus config and alert rules, and tests when they fire (apt: prometheus)
	@command -v promtool >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; }
	promtool check config conf/prometheus/prometheus.yml
	promtool check rules conf/prometheus/alerts.yml
	promtool test rules conf/prometheus/alerts.test.yml

clean: down ## stop the stack and delete its data, logs and the built model
	rm -rf .run

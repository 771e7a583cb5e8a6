# The two commands the README promises on a fresh Debian 12 machine:
#   make demo   installs what is missing, builds, and runs the main job
#   make test   installs what is missing, builds, and runs every test
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORDO_WERROR=ON
ORDO := $(BUILD)/cli/ordo
PROCESS := processes/order-acceptance.bpmn
FUZZ_SECONDS ?= 180

.PHONY: all deps deps-test configure build demo test bench fuzz install-check clean format

all: build

deps:
	@scripts/install-deps

deps-test:
	@scripts/install-deps --test

# The demo builds only the ordo program: the first configure leaves out the tests, the
# benchmarks and the examples, which `make test` (or `make build`) adds to the same tree.
demo: deps
	@test -f $(BUILD)/build.ninja || cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) \
	  -DORDO_BUILD_TESTS=OFF -DORDO_BUILD_BENCH=OFF -DORDO_BUILD_EXAMPLES=OFF
	cmake --build $(BUILD) -j $(JOBS) --target ordo_cli
	$(ORDO) validate $(PROCESS)
	$(ORDO) run $(PROCESS) --orders examples/orders.jsonl
	$(ORDO) replay $(PROCESS) processes/order-acceptance-express.bpmn \
	  processes/order-acceptance-saga.bpmn processes/shipping.dmn \
	  --order-log examples/order-log/orders.csv --config examples/order-log/replay.json \
	  --report $(BUILD)/replay-report.html

configure: deps-test
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) \
	  -DORDO_BUILD_TESTS=ON -DORDO_BUILD_BENCH=ON -DORDO_BUILD_EXAMPLES=ON

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# One throwaway PostgreSQL server and one RabbitMQ broker for the whole run
# (scripts/pg-test-server, scripts/rabbitmq-test-server), stopped after it whatever the
# outcome; the tests find them in ORDO_TEST_PG_URL and ORDO_TEST_AMQP_URL.
test: build
	@pg=$$(mktemp -d "$${TMPDIR:-/tmp}/ordo-pg-XXXXXX") && \
	url=$$(scripts/pg-test-server start "$$pg") || { rm -rf "$$pg"; exit 1; }; \
	rmq=$$(mktemp -d "$${TMPDIR:-/tmp}/ordo-rmq-XXXXXX") && \
	amqp=$$(scripts/rabbitmq-test-server start "$$rmq") || \
	  { scripts/pg-test-server stop "$$pg"; scripts/rabbitmq-test-server stop "$$rmq"; exit 1; }; \
	ORDO_TEST_PG_URL="$$url" ORDO_TEST_AMQP_URL="$$amqp" \
	  ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS); \
	status=$$?; scripts/pg-test-server stop "$$pg"; scripts/rabbitmq-test-server stop "$$rmq"; \
	exit $$status

# The PostgreSQL benchmarks get a throwaway server of their own, as the tests do.
bench: build
	$(BUILD)/bench/ordo_bench_load --benchmark_min_time=1
	$(BUILD)/bench/ordo_bench_expr --benchmark_min_time=0.5
	$(BUILD)/bench/ordo_bench_runtime --benchmark_min_time=1
	@pg=$$(mktemp -d "$${TMPDIR:-/tmp}/ordo-pg-XXXXXX") && \
	url=$$(scripts/pg-test-server start "$$pg") || { rm -rf "$$pg"; exit 1; }; \
	ORDO_BENCH_PG_URL="$$url" $(BUILD)/bench/ordo_bench_durable --benchmark_min_time=2; \
	status=$$?; scripts/pg-test-server stop "$$pg"; exit $$status
	$(BUILD)/bench/ordo_bench_notify --benchmark_min_time=1
	@rmq=$$(mktemp -d "$${TMPDIR:-/tmp}/ordo-rmq-XXXXXX") && \
	url=$$(scripts/rabbitmq-test-server start "$$rmq") || { scripts/rabbitmq-test-server stop "$$rmq"; exit 1; }; \
	ORDO_BENCH_AMQP_URL="$$url" $(BUILD)/bench/ordo_bench_queue; \
	status=$$?; scripts/rabbitmq-test-server stop "$$rmq"; exit $$status
	$(BUILD)/bench/ordo_bench_replay

fuzz:
	@scripts/install-deps --fuzz
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DORDO_BUILD_FUZZERS=ON -DORDO_BUILD_TESTS=OFF -DORDO_BUILD_BENCH=OFF -DORDO_BUILD_EXAMPLES=OFF
	cmake --build build-fuzz -j $(JOBS) --target ordo_fuzz_loader ordo_fuzz_api ordo_fuzz_http
	scripts/run-fuzzer build-fuzz/fuzz/ordo_fuzz_loader $(FUZZ_SECONDS)
	scripts/run-fuzzer build-fuzz/fuzz/ordo_fuzz_api $(FUZZ_SECONDS) fuzz/api_corpus
	scripts/run-fuzzer build-fuzz/fuzz/ordo_fuzz_http $(FUZZ_SECONDS) fuzz/http_corpus

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-fuzz

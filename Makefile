# The two README commands. Both install what is missing (scripts/bootstrap),
# configure and build; `make run` then starts the daemon on its embedded
# default configuration, `make test` runs every test.

BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test build setup setup-build asan format check-format bench clean

# Everything, test tools included (make test), or only what building and
# running needs (make run).
setup:
	@scripts/bootstrap

setup-build:
	@scripts/bootstrap --build-only

$(BUILD)/CMakeCache.txt: | setup-build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: setup $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

run: setup-build $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS) --target fitbridge -- --no-print-directory
	$(BUILD)/daemon/fitbridge serve

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600
	@# ctest lists the corpus tests as Skipped without their reason: one of them says it.
	@$(BUILD)/tests/unit_formats --gtest_filter=FitCorpus.EveryPlainFitFileDecodes 2>&1 | grep -m1 '^corpus suite skipped' || true

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer, at -O1
# (a debug build's speed would make the end-to-end tests crawl). The corpus
# suite is left out here: `make test` runs it, and the decoders meet hostile
# bytes under the sanitizers in the fuzz targets.
asan:
	@scripts/bootstrap
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DFITBRIDGE_SANITIZE=ON \
		-DFITBRIDGE_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD)-asan -j$(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j$(JOBS) --timeout 900 -LE corpus

format:
	scripts/format --fix

check-format:
	scripts/format --check

clean:
	rm -rf $(BUILD) $(BUILD)-asan

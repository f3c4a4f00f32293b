# The two entry points of the README. Each installs missing Debian packages,
# configures and builds kiln, then runs the demo or the whole test suite.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: deps build demo test clean

deps:
	scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	scripts/demo.sh $(BUILD_DIR)/kiln

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR)

#!/bin/sh
# protoc plugin shim: runs the protoc-gen-go pinned by go.mod's tool directive,
# so `make generate` always uses the same generator version.
exec go tool protoc-gen-go "$@"

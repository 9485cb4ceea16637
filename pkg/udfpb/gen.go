// Package udfpb holds the Go types of Kapacitor's UDF protocol, generated
// from udf.proto. Never edit udf.pb.go by hand: run `make generate`, which
// uses protoc from Debian's protobuf-compiler (3.21.12) and the
// protoc-gen-go pinned by go.mod's tool directive.
package udfpb

//go:generate protoc --plugin=protoc-gen-go=protoc-gen-go.sh --go_out=. --go_opt=paths=source_relative udf.proto

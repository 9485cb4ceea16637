package udfpb

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerated_UpToDate regenerates udf.pb.go as `make generate` does and
// compares it with the committed file. It needs the protoc that generated
// it (Debian's protobuf-compiler 3.21.12) and skips without it.
func TestGenerated_UpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs protoc and builds protoc-gen-go")
	}
	out, err := exec.Command("protoc", "--version").Output()
	if err != nil {
		t.Skip("protoc not installed (apt-get install protobuf-compiler)")
	}
	if v := strings.TrimSpace(string(out)); v != "libprotoc 3.21.12" {
		t.Skipf("%s, the committed code comes from libprotoc 3.21.12", v)
	}
	dir := t.TempDir()
	cmd := exec.Command("protoc", "--plugin=protoc-gen-go=protoc-gen-go.sh", "--go_out="+dir,
		"--go_opt=paths=source_relative", "udf.proto")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "udf.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("udf.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("udf.pb.go is not what udf.proto generates: run `make generate` and commit the result")
	}
}

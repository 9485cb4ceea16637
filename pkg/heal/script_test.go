package heal

import (
	"fmt"
	"slices"
	"testing"
)

func TestUDFCalls(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   []string
	}{
		{"task of the docs", scriptAnomaly, []string{"anomaly"}},
		{"other UDF", scriptOtherUDF, []string{"movingAverage"}},
		{"no UDF", scriptPlain, nil},
		{"spaces", "stream\n  @ anomaly ( )\n", []string{"anomaly"}},
		{"newlines between @, name and (", "stream\n@\nanomaly\n\n(\n)", []string{"anomaly"}},
		{"comment between @ and name", "stream\n@ // the detector\n  anomaly()", []string{"anomaly"}},
		{"no parenthesis", "stream @anomaly .field('x')", nil},
		{"commented out", "stream\n// @anomaly()\n    |log()", nil},
		{"commented out after code", "stream |log() // @anomaly()\n", nil},
		{"string", "stream |log().prefix('@anomaly()')", nil},
		{"string with an escaped quote", `stream |log().prefix('it\'s @anomaly()')`, nil},
		{"empty string then a call", "stream |log().prefix('') @anomaly()", []string{"anomaly"}},
		{"triple-quoted string", "stream |log().prefix('''say '@anomaly()' ''') @x()", []string{"x"}},
		{"field reference", `stream |where(lambda: "@anomaly(" == 'a')`, nil},
		{"reference with an escaped quote", `stream |where(lambda: "a\"@anomaly()" == 'a') @b()`, []string{"b"}},
		{"regex", `stream |where(lambda: "host" =~ /@anomaly\(/)`, nil},
		{"regex with an escaped slash", `stream |where(lambda: "url" =~ /http:\/\/@anomaly()/) @b()`, []string{"b"}},
		{"regex after a var", "var r = /@anomaly()/\nstream @b()", []string{"b"}},
		{"division is not a regex", `stream |eval(lambda: "a" / 2.0, lambda: "b" / 3.0) @anomaly()`, []string{"anomaly"}},
		{"division after a paren", `stream |eval(lambda: ("a" + 1.0) / 2.0) @anomaly()`, []string{"anomaly"}},
		{"several, in order, once each", "stream @b() @a() @b()", []string{"b", "a"}},
		{"name with digits and _", "stream @anomaly_2()", []string{"anomaly_2"}},
		{"unicode name", "stream @anomalie_é()", []string{"anomalie_é"}},
		{"not a name", "stream @2d()", nil},
		{"@ inside a word", "stream |log().prefix(x@anomaly())", []string{"anomaly"}},
		{"unterminated string hides the rest", "stream |log().prefix('oops) @anomaly()", nil},
		{"unterminated regex", "stream |where(lambda: \"a\" =~ /x) @anomaly()", nil},
		{"call before an unterminated string", "stream @anomaly() |log().prefix('oops", []string{"anomaly"}},
		{"empty", "", nil},
		{"template var", "var field string\nstream\n  @anomaly()\n    .field(field)", []string{"anomaly"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UDFCalls(tt.script); !slices.Equal(got, tt.want) {
				t.Errorf("UDFCalls(%q) = %q, want %q", tt.script, got, tt.want)
			}
		})
	}
}

func TestCallsUDF(t *testing.T) {
	names := []string{"anomaly", "anomalyHourly"}
	for script, want := range map[string]bool{
		scriptAnomaly:                        true,
		scriptOtherUDF:                       false,
		scriptPlain:                          false,
		"stream @anomalyHourly()":            true,
		"stream @anomalyb()":                 false, // a prefix is not the name
		"stream @Anomaly()":                  false, // names are case-sensitive
		"stream @movingAverage() @anomaly()": true,
	} {
		if got := CallsUDF(script, names); got != want {
			t.Errorf("CallsUDF(%q) = %v, want %v", script, got, want)
		}
	}
}

func ExampleUDFCalls() {
	fmt.Println(UDFCalls(`stream
    |from().measurement('cpu')
    // @old() is no longer used
    |window().period(1h).every(1m)
    @anomaly()
        .field('usage_user')
    |alert().message('@notAUDF()')`))
	// Output: [anomaly]
}

func FuzzUDFCalls(f *testing.F) {
	for _, s := range []string{scriptAnomaly, scriptOtherUDF, "@a()", "'''", `/\/`, `"\"`, "// @a()\n@b()"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		for _, name := range UDFCalls(script) {
			if !isIdent(name) {
				t.Fatalf("UDFCalls(%q) returned %q, not an identifier", script, name)
			}
		}
	})
}

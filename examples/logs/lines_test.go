package logs

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// naiveTail is the last n lines of data, the obvious way.
func naiveTail(data string, n int) []string {
	if data == "" {
		return nil
	}
	data = strings.TrimSuffix(data, "\n")
	lines := strings.Split(data, "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	if n < len(lines) {
		lines = lines[len(lines)-n:]
	}
	if n == 0 {
		return nil
	}
	return lines
}

// tailLines is what Tail sends without follow, with no scan bound.
func tailLines(t testing.TB, data []byte, n, maxLine int) []string {
	var got []string
	emit := func(s string) error { got = append(got, s); return nil }
	r := bytes.NewReader(data)
	start, err := tailStart(r, int64(len(data)), n, int64(len(data))+1)
	require.NoError(t, err)
	sp := &splitter{max: maxLine}
	off, err := copyLines(r, make([]byte, 7), start, int64(len(data)), sp, emit)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), off)
	require.NoError(t, sp.flush(emit))
	return got
}

func TestTail(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want []string
	}{
		{"empty", "", 3, nil},
		{"none asked", "a\nb\n", 0, nil},
		{"fewer lines", "a\nb\n", 5, []string{"a", "b"}},
		{"last two", "a\nb\nc\n", 2, []string{"b", "c"}},
		{"unterminated last", "a\nb\nc", 2, []string{"b", "c"}},
		{"crlf", "a\r\nb\r\n", 1, []string{"b"}},
		{"empty lines", "\n\n\n", 2, []string{"", ""}},
		{"one newline", "\n", 1, []string{""}},
		{"long file", strings.Repeat("x\n", 20000) + "end\n", 2, []string{"x", "end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tailLines(t, []byte(tt.in), tt.n, 1<<20))
			require.Equal(t, tt.want, naiveTail(tt.in, tt.n))
		})
	}
}

func TestTailScanBound(t *testing.T) {
	data := []byte(strings.Repeat("y", 100) + "\nshort\n")
	start, err := tailStart(bytes.NewReader(data), int64(len(data)), 2, 20)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)-20), start, "the scan stops after maxScan bytes")
}

func TestSplitter(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		feeds []string
		want  []string
		rest  string
	}{
		{"lines", 10, []string{"a\nb\n"}, []string{"a", "b"}, ""},
		{"across feeds", 10, []string{"ab", "c\nd", "e\n"}, []string{"abc", "de"}, ""},
		{"partial kept", 10, []string{"a\npart"}, []string{"a"}, "part"},
		{"long line in pieces", 4, []string{"abcdefghij\n"}, []string{"abcd", "efgh", "ij"}, ""},
		{"exact multiple", 4, []string{"abcdefgh\n"}, []string{"abcd", "efgh"}, ""},
		{"pieces across feeds", 4, []string{"abc", "def", "ghi\n"}, []string{"abcd", "efgh", "i"}, ""},
		{"utf8 boundary", 4, []string{"aéééé\n"}, []string{"aé", "éé", "é"}, ""},
		{"crlf", 10, []string{"a\r\n"}, []string{"a"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			sp := &splitter{max: tt.max}
			for _, f := range tt.feeds {
				require.NoError(t, sp.feed([]byte(f), func(s string) error { got = append(got, s); return nil }))
			}
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.rest, string(sp.buf))
		})
	}
}

func TestSplitterEmitError(t *testing.T) {
	boom := errors.New("boom")
	sp := &splitter{max: 4}
	calls := 0
	err := sp.feed([]byte("a\nb\nc\n"), func(string) error { calls++; return boom })
	require.ErrorIs(t, err, boom)
	require.Equal(t, 1, calls)
}

// FuzzTail: for any file and any n, the lines Tail sends are the file's
// last n lines.
func FuzzTail(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), uint8(2))
	f.Add([]byte("a\r\nb"), uint8(1))
	f.Add([]byte("\n\n"), uint8(3))
	f.Add([]byte(""), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		got := tailLines(t, data, int(n), len(data)+1)
		want := naiveTail(string(data), int(n))
		if len(got) != len(want) {
			t.Fatalf("tail %d of %q: got %q, want %q", n, data, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("tail %d of %q: got %q, want %q", n, data, got, want)
			}
		}
	})
}

// FuzzSplitter: however the bytes are chunked and however short the
// limit, no piece is longer than it or holds a newline, and joining the
// pieces loses nothing but newlines and the '\r' before them.
func FuzzSplitter(f *testing.F) {
	f.Add([]byte("abc\ndef\r\n"), uint8(2), uint8(3))
	f.Add([]byte("ééé\nx"), uint8(1), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, maxLine, chunk uint8) {
		m := int(maxLine%64) + 1
		c := int(chunk%16) + 1
		var got []string
		emit := func(s string) error { got = append(got, s); return nil }
		sp := &splitter{max: m}
		for p := data; len(p) > 0; {
			k := min(c, len(p))
			if err := sp.feed(p[:k], emit); err != nil {
				t.Fatal(err)
			}
			p = p[k:]
		}
		if err := sp.flush(emit); err != nil {
			t.Fatal(err)
		}
		var joined strings.Builder
		for _, s := range got {
			if len(s) > m || strings.Contains(s, "\n") {
				t.Fatalf("bad piece %q (max %d)", s, m)
			}
			joined.WriteString(s)
		}
		want := strings.ReplaceAll(string(data), "\r\n", "\n")
		if !strings.HasSuffix(want, "\n") {
			want = strings.TrimSuffix(want, "\r") // an unterminated last line loses it too
		}
		want = strings.ReplaceAll(want, "\n", "")
		if joined.String() != want {
			t.Fatalf("pieces %q do not join to %q", got, want)
		}
	})
}

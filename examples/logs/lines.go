package logs

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// splitter cuts a byte stream into lines: a line ends at '\n' (a '\r'
// before it is dropped), and a line longer than max bytes goes out in
// pieces of at most max bytes, cut at a UTF-8 character boundary where one
// is near. It holds at most max bytes plus one fed chunk.
type splitter struct {
	max int
	buf []byte
}

// feed splits p, calling emit with each complete line or piece. An emit
// error stops it.
func (s *splitter) feed(p []byte, emit func(string) error) error {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.buf = append(s.buf, p...)
			return s.pieces(emit)
		}
		s.buf = append(s.buf, p[:i]...)
		p = p[i+1:]
		if err := s.pieces(emit); err != nil {
			return err
		}
		line := bytes.TrimSuffix(s.buf, []byte{'\r'})
		s.buf = s.buf[:0]
		if err := emit(string(line)); err != nil {
			return err
		}
	}
	return nil
}

// pieces sends the front of a line longer than max.
func (s *splitter) pieces(emit func(string) error) error {
	rest := s.buf
	var err error
	for len(rest) > s.max && err == nil {
		cut := s.max
		for k := cut; k > s.max-utf8.UTFMax && k > 0; k-- {
			if utf8.RuneStart(rest[k]) {
				cut = k
				break
			}
		}
		err = emit(string(rest[:cut]))
		rest = rest[cut:]
	}
	s.buf = append(s.buf[:0], rest...)
	return err
}

// flush sends what is left of an unterminated last line, if anything.
func (s *splitter) flush(emit func(string) error) error {
	if len(s.buf) == 0 {
		return nil
	}
	line := bytes.TrimSuffix(s.buf, []byte{'\r'})
	s.buf = s.buf[:0]
	return emit(string(line))
}

// reset forgets a partial line.
func (s *splitter) reset() { s.buf = s.buf[:0] }

// tailStart returns the offset in the first size bytes of f where its last
// n lines begin (a '\n' at the very end ends the last line, it does not
// start another). It reads backwards at most maxScan bytes: where the last
// n lines are longer, it returns size-maxScan, within a line.
func tailStart(f io.ReaderAt, size int64, n int, maxScan int64) (int64, error) {
	if n <= 0 || size <= 0 {
		return size, nil
	}
	floor := max(size-maxScan, 0)
	end := size
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil && err != io.EOF {
		return 0, err
	}
	if last[0] == '\n' {
		end = size - 1 // the last line's own terminator
	}
	buf := make([]byte, 8<<10)
	found := 0
	for pos := end; pos > floor; {
		k := min(int64(len(buf)), pos-floor)
		pos -= k
		chunk := buf[:k]
		if _, err := f.ReadAt(chunk, pos); err != nil && err != io.EOF {
			return 0, err
		}
		for i := len(chunk) - 1; i >= 0; i-- {
			if chunk[i] == '\n' {
				found++
				if found == n {
					return pos + int64(i) + 1, nil
				}
			}
		}
	}
	return floor, nil
}

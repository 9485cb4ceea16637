package agent

import (
	"bytes"
	"fmt"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/anomalyd/anomalyd/pkg/state"
)

// Field numbers of the Request oneof members the fast path decodes.
const (
	reqBegin = 16
	reqPoint = 17
	reqEnd   = 18
)

// splitRequest scans the top level of a Request frame and returns the
// field number and payload of its oneof member (the last one, as proto
// does). num 0 means none was set. Only begin, point and end are decoded by
// hand (decodePoint and friends); the rest go through proto.Unmarshal.
func splitRequest(frame []byte) (num protowire.Number, payload []byte, err error) {
	for b := frame; len(b) > 0; {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return 0, nil, fmt.Errorf("%w: request: %w", ErrProtocol, protowire.ParseError(l))
		}
		b = b[l:]
		if typ == protowire.BytesType && (n >= 1 && n <= 5 || n >= reqBegin && n <= reqEnd) {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return 0, nil, fmt.Errorf("%w: request field %d: %w", ErrProtocol, n, protowire.ParseError(l))
			}
			num, payload = n, v
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return 0, nil, fmt.Errorf("%w: request field %d: %w", ErrProtocol, n, protowire.ParseError(l))
		}
		b = b[l:]
	}
	return num, payload, nil
}

// consumeTag is protowire.ConsumeTag with a fast path for the one-byte tags
// of fields 1–15.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	if len(b) > 0 && b[0] < 0x80 && b[0]>>3 != 0 {
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), 1
	}
	return protowire.ConsumeTag(b)
}

// consumeBytes is protowire.ConsumeBytes with a fast path for lengths
// under 128.
func consumeBytes(b []byte) ([]byte, int) {
	if len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) {
		n := int(b[0])
		return b[1 : 1+n], 1 + n
	}
	return protowire.ConsumeBytes(b)
}

// fieldKind is the map a point's analysed field came from, in Kapacitor's
// precedence: when a key is in several maps, string < int < double < bool.
type fieldKind uint8

const (
	fieldNone fieldKind = iota
	fieldString
	fieldInt
	fieldDouble
	fieldBool
)

// rawTag is a tag of a point, pointing into the frame.
type rawTag struct{ k, v []byte }

// pointFrame is what the reader needs of a Point: no allocation per point.
type pointFrame struct {
	time  int64
	kind  fieldKind
	value float64 // for fieldDouble and fieldInt
	tags  []rawTag
}

// decodePoint decodes a Point message, keeping only its time, its tags and
// the value of field.
func decodePoint(b []byte, field string, p *pointFrame) error {
	p.time, p.kind, p.value, p.tags = 0, fieldNone, 0, p.tags[:0]
	for len(b) > 0 {
		num, typ, l := consumeTag(b)
		if l < 0 {
			return fmt.Errorf("%w: point: %w", ErrProtocol, protowire.ParseError(l))
		}
		b = b[l:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, l2 := protowire.ConsumeVarint(b)
			p.time, l = int64(v), l2
		case num == 7 && typ == protowire.BytesType:
			var e []byte
			e, l = consumeBytes(b)
			if l >= 0 {
				k, v, err := mapEntry(e, protowire.BytesType)
				if err != nil {
					return err
				}
				p.tags = append(p.tags, rawTag{k, v})
			}
		case (num >= 8 && num <= 10 || num == 12) && typ == protowire.BytesType:
			var e []byte
			e, l = consumeBytes(b)
			if l >= 0 {
				if err := p.field(num, e, field); err != nil {
					return err
				}
			}
		default:
			l = protowire.ConsumeFieldValue(num, typ, b)
		}
		if l < 0 {
			return fmt.Errorf("%w: point field %d: %w", ErrProtocol, num, protowire.ParseError(l))
		}
		b = b[l:]
	}
	return nil
}

// field handles one entry of a fields map (8 double, 9 int, 10 string, 12 bool).
func (p *pointFrame) field(num protowire.Number, entry []byte, field string) error {
	kind, typ := fieldDouble, protowire.Fixed64Type
	switch num {
	case 9:
		kind, typ = fieldInt, protowire.VarintType
	case 10:
		kind, typ = fieldString, protowire.BytesType
	case 12:
		kind, typ = fieldBool, protowire.VarintType
	}
	k, v, err := mapEntry(entry, typ)
	if err != nil {
		return err
	}
	if string(k) != field || kind < p.kind {
		return nil
	}
	p.kind = kind
	switch kind {
	case fieldDouble:
		p.value = 0
		if len(v) == 8 {
			x, _ := protowire.ConsumeFixed64(v)
			p.value = math.Float64frombits(x)
		}
	case fieldInt:
		p.value = 0
		if len(v) > 0 {
			x, _ := protowire.ConsumeVarint(v)
			p.value = float64(int64(x))
		}
	}
	return nil
}

// mapEntry decodes a map entry message: key (field 1, bytes) and the raw
// value (field 2) of wire type typ — for a varint or fixed64 value, the
// encoded bytes. Absent fields are empty, i.e. proto3 defaults.
func mapEntry(b []byte, typ protowire.Type) (key, val []byte, err error) {
	// Fast path for the layout every encoder writes: a short key, then the
	// value.
	if len(b) >= 2 && b[0] == 0x0a && b[1] < 0x80 && int(b[1])+2 < len(b) {
		k, rest := b[2:2+b[1]], b[2+b[1]:]
		if rest[0] == byte(2<<3|typ) {
			switch typ {
			case protowire.Fixed64Type:
				if len(rest) == 9 {
					return k, rest[1:], nil
				}
			case protowire.VarintType:
				if n := protowire.ConsumeFieldValue(2, typ, rest[1:]); n == len(rest)-1 {
					return k, rest[1:], nil
				}
			case protowire.BytesType:
				if v, n := consumeBytes(rest[1:]); n == len(rest)-1 {
					return k, v, nil
				}
			}
		}
	}
	for len(b) > 0 {
		num, t, l := consumeTag(b)
		if l < 0 {
			return nil, nil, fmt.Errorf("%w: map entry: %w", ErrProtocol, protowire.ParseError(l))
		}
		b = b[l:]
		switch {
		case num == 1 && t == protowire.BytesType:
			key, l = consumeBytes(b)
		case num == 2 && t == typ:
			switch typ {
			case protowire.BytesType:
				val, l = consumeBytes(b)
			default:
				l = protowire.ConsumeFieldValue(num, t, b)
				if l >= 0 {
					val = b[:l]
				}
			}
		default:
			l = protowire.ConsumeFieldValue(num, t, b)
		}
		if l < 0 {
			return nil, nil, fmt.Errorf("%w: map entry: %w", ErrProtocol, protowire.ParseError(l))
		}
		b = b[l:]
	}
	return key, val, nil
}

// beginFrame is a decoded BeginBatch.
type beginFrame struct {
	name, group string
	byName      bool
	size        int64
	tags        state.Tags // sorted
}

func decodeBegin(b []byte) (beginFrame, error) {
	var f beginFrame
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return f, fmt.Errorf("%w: begin: %w", ErrProtocol, protowire.ParseError(l))
		}
		b = b[l:]
		var v []byte
		switch {
		case (num == 1 || num == 2 || num == 3) && typ == protowire.BytesType:
			v, l = protowire.ConsumeBytes(b)
			if l < 0 {
				break
			}
			if num == 3 {
				k, val, err := mapEntry(v, protowire.BytesType)
				if err != nil {
					return f, err
				}
				if !utf8.Valid(k) || !utf8.Valid(val) {
					return f, fmt.Errorf("%w: begin: tag is not valid UTF-8", ErrProtocol)
				}
				f.tags = setTag(f.tags, string(k), string(val))
				break
			}
			if !utf8.Valid(v) {
				return f, fmt.Errorf("%w: begin: field %d is not valid UTF-8", ErrProtocol, num)
			}
			if num == 1 {
				f.name = string(v)
			} else {
				f.group = string(v)
			}
		case (num == 4 || num == 5) && typ == protowire.VarintType:
			var x uint64
			x, l = protowire.ConsumeVarint(b)
			if num == 4 {
				f.size = int64(x)
			} else {
				f.byName = x != 0
			}
		default:
			l = protowire.ConsumeFieldValue(num, typ, b)
		}
		if l < 0 {
			return f, fmt.Errorf("%w: begin field %d: %w", ErrProtocol, num, protowire.ParseError(l))
		}
		b = b[l:]
	}
	return f, nil
}

// setTag sets k=v in the sorted tags t (a repeated key: the last wins).
func setTag(t state.Tags, k, v string) state.Tags {
	i := 0
	for i < len(t) && t[i].Key < k {
		i++
	}
	if i < len(t) && t[i].Key == k {
		t[i].Value = v
		return t
	}
	t = append(t, state.Tag{})
	copy(t[i+1:], t[i:])
	t[i] = state.Tag{Key: k, Value: v}
	return t
}

// checkMessage checks that b is well-formed protobuf wire data (used for
// EndBatch, whose content the daemon does not need).
func checkMessage(b []byte, what string) error {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return fmt.Errorf("%w: %s: %w", ErrProtocol, what, protowire.ParseError(l))
		}
		b = b[l:]
		if l = protowire.ConsumeFieldValue(num, typ, b); l < 0 {
			return fmt.Errorf("%w: %s field %d: %w", ErrProtocol, what, num, protowire.ParseError(l))
		}
		b = b[l:]
	}
	return nil
}

// batchBuilder accumulates the points of one batch. Each distinct tag set
// of the batch is converted to strings once; points refer to it by index.
type batchBuilder struct {
	b     *state.Batch
	index map[string]uint16
	key   []byte
}

func (bb *batchBuilder) reset() {
	bb.b.Reset()
	clear(bb.index)
}

// tagSet returns the batch index of the tag set raw (sorted in place), and
// false if its tags are not valid UTF-8.
func (bb *batchBuilder) tagSet(raw []rawTag) (uint16, bool) {
	// Insertion sort by key, stable so that a repeated key keeps its last
	// value below.
	for i := 1; i < len(raw); i++ {
		for j := i; j > 0 && bytes.Compare(raw[j].k, raw[j-1].k) < 0; j-- {
			raw[j], raw[j-1] = raw[j-1], raw[j]
		}
	}
	bb.key = bb.key[:0]
	for i, t := range raw {
		if i+1 < len(raw) && bytes.Equal(raw[i+1].k, t.k) {
			continue
		}
		bb.key = protowire.AppendBytes(bb.key, t.k)
		bb.key = protowire.AppendBytes(bb.key, t.v)
	}
	if i, ok := bb.index[string(bb.key)]; ok {
		return i, true
	}
	tags := make(state.Tags, 0, len(raw))
	for i, t := range raw {
		if i+1 < len(raw) && bytes.Equal(raw[i+1].k, t.k) {
			continue
		}
		if !utf8.Valid(t.k) || !utf8.Valid(t.v) {
			return 0, false
		}
		tags = append(tags, state.Tag{Key: string(t.k), Value: string(t.v)})
	}
	if len(bb.b.TagSets) >= int(state.NoTags) {
		return state.NoTags, true
	}
	if bb.index == nil {
		bb.index = make(map[string]uint16)
	}
	i := uint16(len(bb.b.TagSets))
	bb.b.TagSets = append(bb.b.TagSets, tags)
	bb.index[string(bb.key)] = i
	return i, true
}

package main

// A tiny protobuf writer and a pprof Profile builder, enough to hand-craft
// valid and broken profiles byte by byte (standard library only).

import (
	"bytes"
	"compress/gzip"
)

// pb is a protobuf message under construction.
type pb struct{ b []byte }

// uvarint appends v as a base-128 varint.
func (m *pb) uvarint(v uint64) *pb {
	for v >= 0x80 {
		m.b = append(m.b, byte(v)|0x80)
		v >>= 7
	}
	m.b = append(m.b, byte(v))
	return m
}

// tag appends a field key.
func (m *pb) tag(field, wire int) *pb { return m.uvarint(uint64(field)<<3 | uint64(wire)) }

// varint appends a varint field (int64 values are sign-extended, as protobuf does).
func (m *pb) varint(field int, v int64) *pb { return m.tag(field, 0).uvarint(uint64(v)) }

// bytesField appends a length-delimited field.
func (m *pb) bytesField(field int, data []byte) *pb {
	m.tag(field, 2).uvarint(uint64(len(data)))
	m.b = append(m.b, data...)
	return m
}

// msg appends a nested message.
func (m *pb) msg(field int, sub *pb) *pb { return m.bytesField(field, sub.b) }

// packed appends a packed repeated varint field.
func (m *pb) packed(field int, vs []int64) *pb {
	var p pb
	for _, v := range vs {
		p.uvarint(uint64(v))
	}
	return m.bytesField(field, p.b)
}

// Line is one (possibly inlined) frame of a location.
type Line struct{ FunctionID uint64 }

// Location is an address with its frames, innermost first.
type Location struct {
	ID, MappingID, Address uint64
	Lines                  []Line
}

// Function names a function by string-table index.
type Function struct {
	ID                     uint64
	Name, SystemName, File int64
}

// Label is a sample label (string or number).
type Label struct{ Key, Str, Num int64 }

// Sample is a stack (leaf first) with one value per sample type.
type Sample struct {
	LocationIDs []uint64
	Values      []int64
	Labels      []Label
}

// Profile is the subset of perftools.profiles.Profile the cases need.
type Profile struct {
	SampleTypes   [][2]int64 // (type, unit) string indexes
	Samples       []Sample
	MappingIDs    []uint64
	Locations     []Location
	Functions     []Function
	Strings       []string
	TimeNanos     int64
	DurationNanos int64
	DropFrames    int64 // string index of the drop_frames regex, 0 = none
	KeepFrames    int64
	index         map[string]int64 // string -> index, built on first use
}

// str interns s in the string table and returns its index.
func (p *Profile) str(s string) int64 {
	if p.index == nil {
		p.index = make(map[string]int64)
		for i, t := range p.Strings {
			if _, seen := p.index[t]; !seen {
				p.index[t] = int64(i)
			}
		}
	}
	if i, ok := p.index[s]; ok {
		return i
	}
	p.Strings = append(p.Strings, s)
	p.index[s] = int64(len(p.Strings) - 1)
	return p.index[s]
}

// encode writes the profile as protobuf bytes, fields in spec order.
func (p *Profile) encode() []byte {
	var m pb
	for _, st := range p.SampleTypes {
		m.msg(1, new(pb).varint(1, st[0]).varint(2, st[1]))
	}
	for _, s := range p.Samples {
		var sm pb
		ids := make([]int64, len(s.LocationIDs))
		for i, id := range s.LocationIDs {
			ids[i] = int64(id)
		}
		sm.packed(1, ids).packed(2, s.Values)
		for _, l := range s.Labels {
			sm.msg(3, new(pb).varint(1, l.Key).varint(2, l.Str).varint(3, l.Num))
		}
		m.msg(2, &sm)
	}
	for _, id := range p.MappingIDs {
		m.msg(3, new(pb).varint(1, int64(id)).varint(2, 0x400000).varint(3, 0x800000))
	}
	for _, l := range p.Locations {
		var lm pb
		lm.varint(1, int64(l.ID)).varint(2, int64(l.MappingID)).varint(3, int64(l.Address))
		for _, ln := range l.Lines {
			lm.msg(4, new(pb).varint(1, int64(ln.FunctionID)).varint(2, 1))
		}
		m.msg(4, &lm)
	}
	for _, f := range p.Functions {
		m.msg(5, new(pb).varint(1, int64(f.ID)).varint(2, f.Name).varint(3, f.SystemName).varint(4, f.File))
	}
	for _, s := range p.Strings {
		m.bytesField(6, []byte(s))
	}
	if p.DropFrames != 0 {
		m.varint(7, p.DropFrames)
	}
	if p.KeepFrames != 0 {
		m.varint(8, p.KeepFrames)
	}
	if p.TimeNanos != 0 {
		m.varint(9, p.TimeNanos)
	}
	if p.DurationNanos != 0 {
		m.varint(10, p.DurationNanos)
	}
	return m.b
}

// gz compresses data as one gzip member.
func gz(data []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

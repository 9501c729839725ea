// Command svgtool helps test/svg.sh check profile_to_svg().
//
//	svgtool hostile OUT.pb.gz   write a small CPU profile whose function names
//	                            hold XML metacharacters and control characters
//	svgtool delta OUT.pb.gz     write a delta profile (alloc_space/bytes) with
//	                            negative values: main.shrank is negative,
//	                            main.grew positive
//	svgtool pixels IMAGE.png    print "FLAME NONWHITE TOTAL": pixels in the hot
//	                            palette, pixels that are not white, all pixels
//
// It uses the standard library and Debian's pprof library only (GOPATH mode,
// see pp_go_build in scripts/lib.sh).
package main

import (
	"fmt"
	"image/png"
	"os"
	"strings"

	"github.com/google/pprof/profile"
)

// hostileNames are the function names of the hostile profile, root first.
var hostileNames = []string{
	"main.main",
	"<script>alert(1)</script>&\"'",
	"tab\there ctl\x01\x1b[31m del\x7f c1\u0085",
	"]]><!--&amp;-->nonchar\uFFFE\uFFFF",
	strings.Repeat("very.long.name/", 40) + "<b>",
}

// writeHostile writes a profile whose function names need XML escaping.
func writeHostile(path string) error {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     10000000,
	}
	var locs []*profile.Location
	for i, name := range hostileNames {
		fn := &profile.Function{ID: uint64(i + 1), Name: name, SystemName: name, Filename: "x<y>.go"}
		loc := &profile.Location{ID: uint64(i + 1), Address: uint64(0x1000 * (i + 1)),
			Line: []profile.Line{{Function: fn, Line: int64(i + 1)}}}
		p.Function = append(p.Function, fn)
		p.Location = append(p.Location, loc)
		locs = append(locs, loc)
	}
	// leaf first, as pprof stores stacks
	stack := func(idx ...int) []*profile.Location {
		var s []*profile.Location
		for i := len(idx) - 1; i >= 0; i-- {
			s = append(s, locs[idx[i]])
		}
		return s
	}
	p.Sample = []*profile.Sample{
		{Location: stack(0, 1), Value: []int64{500000000}},
		{Location: stack(0, 1, 2), Value: []int64{300000000}},
		{Location: stack(0, 3), Value: []int64{400000000}},
		{Location: stack(0, 3, 4), Value: []int64{800000000}},
	}
	return writeProfile(path, p)
}

// writeDelta writes a profile whose values are partly negative, as a delta
// profile has: main.main -> main.grew +3 MiB, main.main -> main.shrank -1 MiB,
// gc.sweep -> gc.free -512 KiB.
func writeDelta(path string) error {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "alloc_space", Unit: "bytes"}},
	}
	loc := map[string]*profile.Location{}
	for i, name := range []string{"main.main", "main.grew", "main.shrank", "gc.sweep", "gc.free"} {
		fn := &profile.Function{ID: uint64(i + 1), Name: name, SystemName: name, Filename: "d.go"}
		l := &profile.Location{ID: uint64(i + 1), Address: uint64(0x1000 * (i + 1)),
			Line: []profile.Line{{Function: fn, Line: 1}}}
		p.Function = append(p.Function, fn)
		p.Location = append(p.Location, l)
		loc[name] = l
	}
	p.Sample = []*profile.Sample{
		{Location: []*profile.Location{loc["main.grew"], loc["main.main"]}, Value: []int64{3 << 20}},
		{Location: []*profile.Location{loc["main.shrank"], loc["main.main"]}, Value: []int64{-1 << 20}},
		{Location: []*profile.Location{loc["gc.free"], loc["gc.sweep"]}, Value: []int64{-512 << 10}},
	}
	return writeProfile(path, p)
}

// writeProfile writes p, gzip-compressed, to path.
func writeProfile(path string, p *profile.Profile) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// countPixels prints how many pixels of a PNG are flame-coloured.
func countPixels(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return err
	}
	var flame, nonWhite, total int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			total++
			if r < 250 || g < 250 || bl < 250 {
				nonWhite++
			}
			// the "hot" palette: r 205..255, g 0..230, b 0..55
			if r >= 200 && g <= 235 && bl <= 60 {
				flame++
			}
		}
	}
	fmt.Printf("%d %d %d\n", flame, nonWhite, total)
	return nil
}

// main dispatches to the subcommand named by the first argument.
func main() {
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "hostile":
		err = writeHostile(os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "delta":
		err = writeDelta(os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "pixels":
		err = countPixels(os.Args[2])
	default:
		fmt.Fprintln(os.Stderr, "usage: svgtool hostile|delta OUT.pb.gz | pixels IMAGE.png")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "svgtool:", err)
		os.Exit(1)
	}
}

package vad

import (
	"errors"
	"io"

	"github.com/switchboard-go/switchboard/media"
)

// Writer is a [media.FrameWriter] stage that runs a [Detector] on every frame, sets
// media.FlagSpeech on frames in speech (and clears it on the others), and passes them
// on to the next writer. Events go to Config.OnEvent before the frame is passed on.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	d    *Detector
	next media.FrameWriter
}

var _ media.FrameWriter = (*Writer)(nil)

// NewWriter returns a stage in front of next, detecting at next.SampleRate().
func NewWriter(next media.FrameWriter, cfg Config) (*Writer, error) {
	d, err := New(next.SampleRate(), cfg)
	if err != nil {
		return nil, err
	}
	return &Writer{d: d, next: next}, nil
}

// WriteFrame classifies f, flags it and writes it to the next stage. Frames at another
// rate fail with media.ErrRateMismatch and are not passed on.
func (w *Writer) WriteFrame(f media.Frame) error {
	r, err := w.d.Detect(f)
	if err != nil {
		return err
	}
	return w.next.WriteFrame(flag(f, r.Speech))
}

// SampleRate is the rate of the frames the stage accepts.
func (w *Writer) SampleRate() int { return w.d.rate }

// Detector exposes the detector, e.g. for Speaking or Finish.
func (w *Writer) Detector() *Detector { return w.d }

// String names the stage: "vad".
func (w *Writer) String() string { return "vad" }

// Reader is a [media.FrameReader] stage that runs a [Detector] on the frames of a
// source and sets media.FlagSpeech on those in speech.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	d   *Detector
	src media.FrameReader
}

var _ media.FrameReader = (*Reader)(nil)

// NewReader returns a stage reading from src, detecting at src.SampleRate().
func NewReader(src media.FrameReader, cfg Config) (*Reader, error) {
	d, err := New(src.SampleRate(), cfg)
	if err != nil {
		return nil, err
	}
	return &Reader{d: d, src: src}, nil
}

// ReadFrame reads, classifies and flags the next frame. Errors from the source are
// returned as they are; at the end of the source an open speech segment is ended
// (see Detector.Finish) before io.EOF is returned.
func (r *Reader) ReadFrame() (media.Frame, error) {
	f, err := r.src.ReadFrame()
	if err != nil {
		if errors.Is(err, io.EOF) {
			r.d.Finish()
		}
		return f, err
	}
	res, err := r.d.Detect(f)
	if err != nil {
		return media.Frame{}, err
	}
	return flag(f, res.Speech), nil
}

// SampleRate is the rate of the frames the stage returns.
func (r *Reader) SampleRate() int { return r.d.rate }

// Detector exposes the detector.
func (r *Reader) Detector() *Detector { return r.d }

// String names the stage: "vad".
func (r *Reader) String() string { return "vad" }

func flag(f media.Frame, speech bool) media.Frame {
	if speech {
		f.Flags |= media.FlagSpeech
	} else {
		f.Flags &^= media.FlagSpeech
	}
	return f
}

package call

// RecordingSaved: a recording ended and its file (or writer) is complete:
// call.recording.saved. It carries the recording's result: where it went, its format,
// channels, duration and size, when it ran and why it stopped. A recording that runs
// when the call ends is finished first, so its RecordingSaved comes before Hangup.
type RecordingSaved struct {
	base
	RecordingResult
}

// RecordingFailed: writing a recording failed (a full disk, a writer that returned an
// error): call.recording.error. Err says why; what was written before the failure is
// described by the rest of the result and, for a file, stays a valid WAV file up to
// its last header rewrite.
type RecordingFailed struct {
	base
	RecordingResult
}

// Name is "call.recording.saved".
func (RecordingSaved) Name() string { return "call.recording.saved" }

// Name is "call.recording.error".
func (RecordingFailed) Name() string { return "call.recording.error" }

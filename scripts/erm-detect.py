#!/usr/bin/env python3
"""Runs the filler detection of erm 0.4.0 (PyPI `erm`) on WAV files, for
benches/prompt_eval.rs, which puts its um/uh finds side by side with ours on
the same audio and the same whisper weights.

    erm-detect.py MODEL_DIR FILE.wav... [--compute-type int8] [--threads 1]
                  [--fillers um,uh,...]

MODEL_DIR is a CTranslate2 Whisper folder (faster-whisper tiny.en, the same
weights as the app's). Needs a Python with `erm==0.4.0` and `faster-whisper`
installed (e.g. the venv .cache/erm-venv); no ffmpeg binary is needed.

The model is loaded once (CPU, cpu_threads=THREADS, default 1; compute type
int8 by default: CTranslate2 has no float16 on CPU, so the float16 weights are
converted on load). Each file then goes through what `erm FILE --dry-run`
does with its defaults, minus the ffmpeg-only parts (ffprobe video check,
denoise, rendering; erm's default `--denoise hybrid` analyses the original
audio anyway):

  1. erm.asr.transcribe: faster-whisper with erm's verbatim filler prompt,
     word timestamps, condition_on_previous_text=False;
  2. erm.fillers.find_fillers over the words with erm's default filler list
     (um, uh, er, erm, ah, hmm, mhm, mm, uh-huh and their elongations);
  3. the audio detectors erm runs by default: voiced runs in inter-word gaps
     >= 350 ms, fillers hidden inside long words, and overlong-word tails
     (pitch-confirmed as sustained vowels);
  4. erm.refine.refine_boundaries (snap to energy minimum / zero crossing)
     and erm.ranges.merge_close_cuts (120 ms), i.e. erm's final cut list.

Prints one JSON line per file:
  {"file", "fillers": [{"word", "start", "end", "source"}], "seconds",
   "audio_s", "transcript"}
`source` is "transcript" (a filler word whisper wrote), "gap", "intraword" or
"overlong" (an audio detector), joined with "+" when erm merged two cuts.
`word` is the normalized filler word for transcript finds and erm's label
("<gap>", "<in:WORD>", "<long:WORD>") for detector finds. `seconds` is the
wall time of steps 1-4 for that file (the model load is printed on stderr).
"""

import os

# One thread everywhere (numpy/BLAS, numba, OpenMP), unless the caller says otherwise.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import sys
import time


def source_of(label):
    if label.startswith("<gap"):
        return "gap"
    if label.startswith("<in:"):
        return "intraword"
    if label.startswith("<long:"):
        return "overlong"
    return "transcript"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--compute-type", default="int8", help="CTranslate2 compute type on CPU (int8, int8_float32, float32)")
    parser.add_argument("--threads", type=int, default=1, help="faster-whisper cpu_threads")
    parser.add_argument("--fillers", default=None, help="comma-separated filler words (default: erm's DEFAULT_FILLERS)")
    parser.add_argument("--verbose", action="store_true", help="print whisper's words and erm's raw (unrefined) cuts on stderr")
    args = parser.parse_args()

    import faster_whisper
    import erm
    from erm.acoustic import is_sustained_vowel
    from erm.asr import transcribe
    from erm.audio import load_audio_mono
    from erm.detect import detect_gap_fillers, detect_intraword_fillers, detect_overlong_words
    from erm.fillers import DEFAULT_FILLERS, find_fillers, normalize_word
    from erm.ranges import merge_close_cuts
    from erm.refine import refine_boundaries

    if erm.__version__ != "0.4.0":
        print(f"warning: erm {erm.__version__}, not 0.4.0", file=sys.stderr)
    fillers = set(DEFAULT_FILLERS) if args.fillers is None else {
        w.strip().lower() for w in args.fillers.split(",") if w.strip()}

    t0 = time.perf_counter()
    model = faster_whisper.WhisperModel(
        args.model_dir, device="cpu", compute_type=args.compute_type,
        cpu_threads=args.threads, num_workers=1,
    )
    print(f"erm-detect: loaded {args.model_dir} (cpu, {args.compute_type}, "
          f"{args.threads} thread(s)) in {time.perf_counter() - t0:.2f}s; "
          f"erm {erm.__version__}, faster-whisper {faster_whisper.__version__}",
          file=sys.stderr)
    # erm.asr.transcribe builds a WhisperModel on every call (it imports it from
    # faster_whisper inside the function); hand it the one loaded above, so its
    # own decoding settings (verbatim prompt, word timestamps) are used as is.
    faster_whisper.WhisperModel = lambda *a, **k: model

    # Warm up outside the per-file timing: the first decode and librosa's first
    # feature calls (import, numba compilation) take several seconds once.
    t0 = time.perf_counter()
    import numpy as np
    noise = (np.random.default_rng(0).standard_normal(16000) * 0.1).astype(np.float32)
    list(model.transcribe(noise, language="en")[0])
    is_sustained_vowel(noise, 16000, 0.0, 1.0)
    detect_intraword_fillers(noise, 16000, [erm.Word("warm", 0.0, 1.0)])
    print(f"erm-detect: warm-up {time.perf_counter() - t0:.2f}s", file=sys.stderr)

    # erm's CLI defaults (cli.py _build_remove_parser).
    gap_min_s, min_voiced_s, max_voiced_s = 0.350, 0.100, 1.500
    intraword_min_s, search_ms, merge_gap_s = 0.550, 60.0, 0.120

    for path in args.files:
        t0 = time.perf_counter()
        words, duration = transcribe(path, model_name=args.model_dir, device="cpu",
                                     compute_type=args.compute_type)
        word_cuts = find_fillers(words, fillers)
        audio, sr = load_audio_mono(path)
        gap_cuts = detect_gap_fillers(audio, sr, words, duration, min_gap_s=gap_min_s,
                                      min_voiced_s=min_voiced_s, max_voiced_s=max_voiced_s)
        intra_cuts = detect_intraword_fillers(audio, sr, words, min_word_s=intraword_min_s,
                                              min_voiced_s=min_voiced_s, max_voiced_s=max_voiced_s,
                                              confirm_pitch=True)
        long_cuts = [c for c in detect_overlong_words(audio, sr, words, min_voiced_s=min_voiced_s,
                                                      max_voiced_s=max_voiced_s)
                     if is_sustained_vowel(audio, sr, c.start, c.end)]
        raw_cuts = sorted(word_cuts + gap_cuts + intra_cuts + long_cuts, key=lambda c: c.start)
        cuts = refine_boundaries(audio, sr, raw_cuts, search_ms=search_ms,
                                 words=words, total_duration=duration) if raw_cuts else []
        cuts = merge_close_cuts(cuts, min_gap_s=merge_gap_s)
        elapsed = time.perf_counter() - t0
        if args.verbose:
            print(f"{path}: words " + " ".join(f"{w.text}[{w.start:.2f}-{w.end:.2f}]" for w in words),
                  file=sys.stderr)
            print(f"{path}: raw cuts " + " ".join(f"{c.word}[{c.start:.2f}-{c.end:.2f}]" for c in raw_cuts),
                  file=sys.stderr)

        found = []
        for c in cuts:
            parts = c.word.split("+")  # merge_close_cuts joins differing labels with "+"
            sources = []
            for p in parts:
                s = source_of(p)
                if s not in sources:
                    sources.append(s)
            found.append({
                "word": "+".join(p if p.startswith("<") else normalize_word(p) for p in parts),
                "start": round(c.start, 3),
                "end": round(c.end, 3),
                "source": "+".join(sources),
            })
        print(json.dumps({
            "file": path,
            "fillers": found,
            "seconds": round(elapsed, 3),
            "audio_s": round(duration, 3),
            "transcript": " ".join(w.text for w in words),
        }), flush=True)


if __name__ == "__main__":
    main()

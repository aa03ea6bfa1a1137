#!/usr/bin/env python3
"""Times faster-whisper on one WAV, for benches/transcription.rs.

    bench-faster-whisper.py MODEL_DIR WAV THREADS BEAM_SIZE WORD_TIMESTAMPS [--runs N]

MODEL_DIR is a CTranslate2 Whisper folder (the same tiny.en weights our ggml
model is converted from), WAV 16 kHz mono 16-bit, WORD_TIMESTAMPS 0 or 1.
The model is loaded (int8, CPU, cpu_threads=THREADS) and run once to warm up,
then N times (default 3); prints one JSON line:
{"best_s", "audio_s", "rtf", "text", "runs_s", "settings", ...}.

The decoding settings match the app's engine (src/transcribe/engine.rs):
language "en", beam search (patience 1, length penalty 1 = whisper.cpp's
-1), segment timestamps decoded (whisper.cpp's no_timestamps is false), no
conditioning on previous text (our no_context = true), suppress blank and
non-speech tokens, temperature fallback 0.0..1.0 by 0.2 with one sampled
candidate (whisper.cpp's beam-search params leave greedy.best_of at -1, so
one decoder), no VAD.
"""

import argparse
import json
import sys
import time
import wave

import numpy as np


def read_wav_16k(path):
    with wave.open(path, "rb") as w:
        if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
            sys.exit(f"{path}: need 16 kHz mono 16-bit, got {w.getframerate()} Hz, "
                     f"{w.getnchannels()} channels, {8 * w.getsampwidth()} bits")
        data = w.readframes(w.getnframes())
    # The same scaling as the app's wav::read_mono.
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def flag(text):
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected 0 or 1, got {text!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir")
    parser.add_argument("wav")
    parser.add_argument("threads", type=int)
    parser.add_argument("beam_size", type=int)
    parser.add_argument("word_timestamps", type=flag)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compute-type", default="int8")
    args = parser.parse_args()

    from faster_whisper import WhisperModel
    import ctranslate2
    import faster_whisper

    audio = read_wav_16k(args.wav)
    audio_s = len(audio) / 16000.0

    load_start = time.perf_counter()
    model = WhisperModel(
        args.model_dir,
        device="cpu",
        compute_type=args.compute_type,
        cpu_threads=args.threads,
        num_workers=1,
    )
    load_s = time.perf_counter() - load_start

    options = dict(
        language="en",
        task="transcribe",
        beam_size=args.beam_size,
        best_of=1,
        patience=1.0,
        length_penalty=1.0,
        temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        compression_ratio_threshold=2.4,
        log_prob_threshold=-1.0,
        no_speech_threshold=0.6,
        condition_on_previous_text=False,
        without_timestamps=False,
        word_timestamps=args.word_timestamps,
        suppress_blank=True,
        suppress_tokens=[-1],
        vad_filter=False,
    )

    def run():
        start, cpu_start = time.perf_counter(), time.process_time()
        segments, _info = model.transcribe(audio, **options)
        # transcribe() is lazy: the work happens while the segments are read.
        segments = list(segments)
        return time.perf_counter() - start, time.process_time() - cpu_start, segments

    run()  # warm-up
    times = []
    cpu_times = []
    segments = []
    for _ in range(max(1, args.runs)):
        elapsed, cpu, segments = run()
        times.append(elapsed)
        cpu_times.append(cpu)
    best = min(times)
    text = " ".join(s.text.strip() for s in segments if s.text.strip())
    words = sum(len(s.words or []) for s in segments)
    print(json.dumps({
        "best_s": best,
        "audio_s": audio_s,
        "rtf": best / audio_s,
        "text": text,
        "runs_s": times,
        # CPU seconds of this process per run (all threads), beside runs_s:
        # with 1 thread, CPU well below wall time means a busy machine.
        "cpu_s": cpu_times,
        "load_s": load_s,
        "segments": len(segments),
        "timed_words": words,
        "settings": {
            "threads": args.threads,
            "beam_size": args.beam_size,
            "word_timestamps": args.word_timestamps,
            "compute_type": args.compute_type,
            "faster_whisper": faster_whisper.__version__,
            "ctranslate2": ctranslate2.__version__,
        },
    }))


if __name__ == "__main__":
    main()

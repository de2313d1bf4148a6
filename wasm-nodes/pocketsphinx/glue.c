/* C glue over PocketSphinx 5prealpha (Debian bookworm's sources) for JS.
 *
 * Why it exists: cmd_ln_init is variadic and the decoder hands back structs and
 * iterators, which JS cannot call through cwrap; these fixed-arity functions can.
 * Each decoder is a handle (a pointer as an int), so one module instance — one
 * copy of the model in its file system — serves every SpeechToText of a worker.
 *
 * Errors: sphinxbase logs through a callback; ours drops INFO and keeps the
 * WARN/ERROR/FATAL text of the last failing call in a buffer that JS reads with
 * psw_last_error (nothing is printed). All functions run on the caller's thread
 * and never block; strings returned stay valid until the next call on that handle. */
#include <emscripten.h>
#include <pocketsphinx.h>
#include <sphinxbase/ckd_alloc.h>
#include <sphinxbase/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERROR_CAPACITY 4096
static char last_error[ERROR_CAPACITY];
static size_t error_length = 0;

static void capture(void *user_data, err_lvl_t level, const char *fmt, ...) {
    (void)user_data;
    if (level < ERR_WARN || error_length >= ERROR_CAPACITY - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error + error_length, ERROR_CAPACITY - error_length, fmt, ap);
    va_end(ap);
    if (n > 0) error_length += (size_t)n < ERROR_CAPACITY - error_length ? (size_t)n : ERROR_CAPACITY - 1 - error_length;
    if (error_length > 0 && last_error[error_length - 1] != '\n' && error_length < ERROR_CAPACITY - 1)
        last_error[error_length++] = '\n';
    last_error[error_length] = '\0';
}

/** The warnings and errors logged since psw_clear_error (empty when none). */
EMSCRIPTEN_KEEPALIVE const char *psw_last_error(void) { return last_error; }
EMSCRIPTEN_KEEPALIVE void psw_clear_error(void) {
    error_length = 0;
    last_error[0] = '\0';
}

/** A decoder for 16 kHz audio with acoustic model `hmm` and dictionary `dict`
 * (paths in the module's file system); 0 on failure (see psw_last_error). */
EMSCRIPTEN_KEEPALIVE ps_decoder_t *psw_new(const char *hmm, const char *dict) {
    err_set_callback(capture, NULL);
    psw_clear_error();
    cmd_ln_t *config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-dict", dict,
                                   "-samprate", "16000", NULL);
    if (config == NULL) return NULL;
    ps_decoder_t *ps = ps_init(config);
    cmd_ln_free_r(config); /* the decoder holds its own reference */
    return ps;
}

EMSCRIPTEN_KEEPALIVE void psw_free(ps_decoder_t *ps) {
    if (ps != NULL) ps_free(ps);
}

/** Frames per second of the decoder's word times (-frate). */
EMSCRIPTEN_KEEPALIVE int psw_frame_rate(ps_decoder_t *ps) {
    return (int)cmd_ln_int32_r(ps_get_config(ps), "-frate");
}

/** 1 when `word` is in the pronunciation dictionary. */
EMSCRIPTEN_KEEPALIVE int psw_has_word(ps_decoder_t *ps, const char *word) {
    char *pron = ps_lookup_word(ps, word);
    if (pron == NULL) return 0;
    ckd_free(pron);
    return 1;
}

/* Searches: each makes the named search and selects it; -1 on failure. */
EMSCRIPTEN_KEEPALIVE int psw_set_jsgf(ps_decoder_t *ps, const char *name, const char *grammar) {
    psw_clear_error();
    if (ps_set_jsgf_string(ps, name, grammar) < 0) return -1;
    return ps_set_search(ps, name);
}
EMSCRIPTEN_KEEPALIVE int psw_set_lm(ps_decoder_t *ps, const char *name, const char *path) {
    psw_clear_error();
    if (ps_set_lm_file(ps, name, path) < 0) return -1;
    return ps_set_search(ps, name);
}
/** Keyword spotting: `keyfile` holds one "phrase /threshold/" a line. */
EMSCRIPTEN_KEEPALIVE int psw_set_kws(ps_decoder_t *ps, const char *name, const char *keyfile) {
    psw_clear_error();
    if (ps_set_kws(ps, name, keyfile) < 0) return -1;
    return ps_set_search(ps, name);
}
EMSCRIPTEN_KEEPALIVE int psw_set_keyphrase(ps_decoder_t *ps, const char *name, const char *phrase) {
    psw_clear_error();
    if (ps_set_keyphrase(ps, name, phrase) < 0) return -1;
    return ps_set_search(ps, name);
}

/** A new utterance on a fresh stream: word frames count from here and the voice
 * activity detector forgets the last utterance's tail (as the gateway's engine). */
EMSCRIPTEN_KEEPALIVE int psw_start(ps_decoder_t *ps) {
    if (ps_start_stream(ps) < 0) return -1;
    return ps_start_utt(ps);
}
EMSCRIPTEN_KEEPALIVE int psw_process(ps_decoder_t *ps, const int16 *pcm, int n) {
    return ps_process_raw(ps, pcm, (size_t)n, FALSE, FALSE);
}
EMSCRIPTEN_KEEPALIVE int psw_end(ps_decoder_t *ps) { return ps_end_utt(ps); }

/** Whether the decoder's voice activity detector is in speech now. */
EMSCRIPTEN_KEEPALIVE int psw_in_speech(ps_decoder_t *ps) { return ps_get_in_speech(ps) ? 1 : 0; }

/** The best hypothesis so far (partial during an utterance, final after psw_end). */
EMSCRIPTEN_KEEPALIVE const char *psw_hyp(ps_decoder_t *ps) {
    int32 score;
    const char *h = ps_get_hyp(ps, &score);
    return h ? h : "";
}

/* The last utterance's segments as text, "word start_frame end_frame" a line
 * (fillers and silences included: the caller decides what is a word). */
static char *segments = NULL;
EMSCRIPTEN_KEEPALIVE const char *psw_segments(ps_decoder_t *ps) {
    size_t capacity = 256, length = 0;
    free(segments);
    segments = malloc(capacity);
    if (segments == NULL) return "";
    segments[0] = '\0';
    for (ps_seg_t *seg = ps_seg_iter(ps); seg != NULL; seg = ps_seg_next(seg)) {
        int sf, ef;
        const char *word = ps_seg_word(seg);
        ps_seg_frames(seg, &sf, &ef);
        size_t need = strlen(word) + 32;
        if (length + need >= capacity) {
            while (length + need >= capacity) capacity *= 2;
            char *grown = realloc(segments, capacity);
            if (grown == NULL) {
                ps_seg_free(seg);
                break;
            }
            segments = grown;
        }
        length += (size_t)snprintf(segments + length, capacity - length, "%s %d %d\n", word, sf, ef);
    }
    return segments;
}

/* Minimal C glue over PocketSphinx 5prealpha for JS: cmd_ln_init is variadic,
 * so JS cannot call it through cwrap; these fixed-arity wrappers can. */
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <emscripten.h>

static ps_decoder_t *ps = NULL;
static cmd_ln_t *config = NULL;

EMSCRIPTEN_KEEPALIVE int psw_init(const char *hmm, const char *dict, int quiet) {
    if (quiet) err_set_logfp(NULL);
    config = cmd_ln_init(NULL, ps_args(), TRUE,
                         "-hmm", hmm, "-dict", dict, "-samprate", "16000", NULL);
    if (config == NULL) return -1;
    ps = ps_init(config);
    return ps == NULL ? -2 : 0;
}
EMSCRIPTEN_KEEPALIVE int psw_set_jsgf(const char *name, const char *grammar) {
    if (ps_set_jsgf_string(ps, name, grammar) < 0) return -1;
    return ps_set_search(ps, name);
}
EMSCRIPTEN_KEEPALIVE int psw_set_lm(const char *name, const char *path) {
    if (ps_set_lm_file(ps, name, path) < 0) return -1;
    return ps_set_search(ps, name);
}
EMSCRIPTEN_KEEPALIVE int psw_start(void) { return ps_start_utt(ps); }
EMSCRIPTEN_KEEPALIVE int psw_process(const int16 *pcm, int n) {
    return ps_process_raw(ps, pcm, n, FALSE, FALSE);
}
EMSCRIPTEN_KEEPALIVE int psw_end(void) { return ps_end_utt(ps); }
EMSCRIPTEN_KEEPALIVE const char *psw_hyp(void) {
    int32 score;
    const char *h = ps_get_hyp(ps, &score);
    return h ? h : "";
}

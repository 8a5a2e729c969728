/*
 * Reference runner for the golden hashes in g722_test.go: encodes or decodes stdin
 * with libspandsp's G.722 codec (Debian package libspandsp2, a dependency of
 * baresip's g722 module), so that this package can be compared with an independent
 * implementation.
 *
 *   gcc -O2 -o ref spandsp_ref.c -l:libspandsp.so.2
 *   ./ref enc   < pcm.s16le  > codes.g722     # 64 kbit/s encoding
 *   ./ref 64000 < codes.g722 > pcm.s16le      # decode in mode 1
 *   ./ref 56000 < codes.g722 > pcm.s16le      # mode 2 (ignores each octet's bit 0)
 *   ./ref 48000 < codes.g722 > pcm.s16le      # mode 3 (ignores bits 0 and 1)
 *
 * The inputs are the signals of signals_test.go written out as raw little-endian
 * samples. The prototypes are declared here because the -dev package is not needed.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

void *g722_encode_init(void *s, int rate, int options);
int g722_encode(void *s, uint8_t g722_data[], const int16_t amp[], int len);
void *g722_decode_init(void *s, int rate, int options);
int g722_decode(void *s, int16_t amp[], const uint8_t g722_data[], int len);

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    static uint8_t in[1 << 24];
    size_t n = fread(in, 1, sizeof in, stdin);
    if (strcmp(argv[1], "enc") == 0) {
        void *s = g722_encode_init(NULL, 64000, 0);
        uint8_t *out = malloc(n);
        int m = g722_encode(s, out, (int16_t *)in, (int)(n / 2));
        fwrite(out, 1, m, stdout);
    } else {
        int rate = atoi(argv[1]);
        int shift = rate == 64000 ? 0 : rate == 56000 ? 1 : 2;
        void *s = g722_decode_init(NULL, rate, 0);
        int16_t *out = malloc(n * 4);
        for (size_t i = 0; i < n; i++) in[i] >>= shift;
        int m = g722_decode(s, out, in, (int)n);
        fwrite(out, 2, m, stdout);
    }
    return 0;
}

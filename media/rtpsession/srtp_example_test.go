package rtpsession_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/rtpsession"
)

// Two sessions keyed as SDES would key them (each side's own master key and salt,
// learnt by the other from its a=crypto): the tone goes through SRTP.
func ExampleSRTPConfig() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := rtpsession.SRTPAESCM128HMACSHA1_80
	key := func() []byte { b := make([]byte, p.KeyLen()); _, _ = rand.Read(b); return b }
	salt := func() []byte { b := make([]byte, p.SaltLen()); _, _ = rand.Read(b); return b }
	aKey, aSalt, bKey, bSalt := key(), salt(), key(), salt()

	aConn, _, err := rtpsession.Listen(netip.Addr{}, rtpsession.PortRange{}, true)
	if err != nil {
		panic(err)
	}
	bConn, _, err := rtpsession.Listen(netip.Addr{}, rtpsession.PortRange{}, true)
	if err != nil {
		panic(err)
	}
	a, err := rtpsession.New(aConn, rtpsession.Config{
		Codec: media.PCMU(), RTCPMux: true, OwnConns: true, RemoteAddr: bConn.LocalAddr(),
		SRTP: &rtpsession.SRTPConfig{Profile: p, LocalKey: aKey, LocalSalt: aSalt, RemoteKey: bKey, RemoteSalt: bSalt},
	})
	if err != nil {
		panic(err)
	}
	defer a.Close()
	b, err := rtpsession.New(bConn, rtpsession.Config{
		Codec: media.PCMU(), RTCPMux: true, OwnConns: true, RemoteAddr: aConn.LocalAddr(),
		SRTP: &rtpsession.SRTPConfig{Profile: p, LocalKey: bKey, LocalSalt: bSalt, RemoteKey: aKey, RemoteSalt: aSalt},
	})
	if err != nil {
		panic(err)
	}
	defer b.Close()

	tone := make([]int16, 4000)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	if err := a.WriteFrame(media.Frame{Samples: tone, SampleRate: 8000}); err != nil {
		panic(err)
	}
	for {
		f, err := b.ReadFrame()
		if err != nil {
			panic(err)
		}
		if f.Has(media.FlagRTP) && energyAt(f.Samples, 1000, 8000) > 0.9 {
			fmt.Println("b hears 1000 Hz")
			break
		}
	}
	if err := a.WaitPlayout(ctx); err != nil {
		panic(err)
	}
	st := b.Stats()
	fmt.Println("profile:", st.SRTP)
	fmt.Println("authentication failures:", st.SRTPAuthFailures)
	// Output:
	// b hears 1000 Hz
	// profile: AES_CM_128_HMAC_SHA1_80
	// authentication failures: 0
}

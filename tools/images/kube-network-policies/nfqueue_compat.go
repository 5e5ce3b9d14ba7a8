// Compiled into sigs.k8s.io/kube-network-policies/pkg/networkpolicy by tools/images/kube-network-policies/build.sh
// (go build -overlay); see that script for why.

package networkpolicy

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// nfqueueCompatTarget returns the xtables NFQUEUE target, revision 3, as an nftables compat expression:
// the same verdict as nftables' `queue num <queueID> [bypass]`, for kernels built with
// CONFIG_NETFILTER_XT_TARGET_NFQUEUE and CONFIG_NFT_COMPAT but without CONFIG_NFT_QUEUE.
// Its payload is the kernel's struct xt_NFQ_info_v3 (include/uapi/linux/netfilter/xt_NFQUEUE.h):
// __u16 queuenum, __u16 queues_total, __u16 flags, in host byte order; NFQ_FLAG_BYPASS is 0x01.
func nfqueueCompatTarget(queueID int, failOpen bool) *expr.Target {
	const nfqFlagBypass = 0x01
	info := make([]byte, 6)
	binary.NativeEndian.PutUint16(info[0:2], uint16(queueID))
	binary.NativeEndian.PutUint16(info[2:4], 1) // one queue: the kernel rejects queues_total 0
	var flags uint16
	if failOpen {
		flags = nfqFlagBypass
	}
	binary.NativeEndian.PutUint16(info[4:6], flags)
	payload := xt.Unknown(info)
	return &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &payload}
}

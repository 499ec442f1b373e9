/**
 * One end of a channel, with only its signals modelled: the client end of the FIDL connection a
 * driver holds to its parent's protocol (here fuchsia.hardware.pci/Device, lib/zircon/bus/pci.ts).
 * A live, empty channel asserts ZX_CHANNEL_WRITABLE; when the other end goes away the kernel clears
 * WRITABLE and asserts ZX_CHANNEL_PEER_CLOSED (zircon/kernel/object/channel_dispatcher.cc
 * ChannelDispatcher::OnPeerZeroHandlesLocked: UpdateStateLocked(ZX_CHANNEL_WRITABLE,
 * ZX_CHANNEL_PEER_CLOSED)). That edge is what a driver's async loop waits for on its port to learn
 * that the device is gone. No messages: zx_channel_read / zx_channel_write are not part of this tier.
 */
import { ZX_OBJ_TYPE_CHANNEL } from '../constants/object-types.ts';
import { ZX_CHANNEL_PEER_CLOSED, ZX_CHANNEL_WRITABLE } from '../constants/options.ts';
import { KernelObject } from '../kernel/kernel-object.ts';

export class ChannelObject extends KernelObject {
  readonly type = ZX_OBJ_TYPE_CHANNEL;

  constructor() {
    super();
    this.updateSignals(0, ZX_CHANNEL_WRITABLE);
  }

  get peerClosed(): boolean {
    return (this.signals & ZX_CHANNEL_PEER_CLOSED) !== 0;
  }

  /** The server end went away (the bus dropped the device). Once. */
  closePeer(): void {
    if (!this.peerClosed) this.updateSignals(ZX_CHANNEL_WRITABLE, ZX_CHANNEL_PEER_CLOSED);
  }
}

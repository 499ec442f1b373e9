/** The C types of the `vfio-ddk/zircon` tier (API.md "Conventions"). */
export type zx_status_t = number;
export type zx_handle_t = number;
export type zx_rights_t = number;
export type zx_signals_t = number;
export type zx_time_t = bigint;
export type zx_duration_t = bigint;
export type zx_koid_t = bigint;
export type zx_paddr_t = bigint;

/** A C out-pointer: the callee writes `value` on success only; `null` in its place is a NULL pointer. */
export interface Out<T> {
  value: T;
}

export interface zx_packet_interrupt_t {
  timestamp: bigint;
}

export interface zx_packet_signal_t {
  trigger: number;
  observed: number;
  count: bigint;
  timestamp?: bigint;
}

export interface zx_packet_user_t {
  u64: bigint[];
}

export interface zx_port_packet_t {
  key: bigint;
  type: number;
  status: number;
  interrupt?: zx_packet_interrupt_t;
  signal?: zx_packet_signal_t;
  user?: zx_packet_user_t;
}

export interface zx_info_handle_basic_t {
  koid: bigint;
  rights: number;
  type: number;
  related_koid: bigint;
}

export interface zx_info_msi_t {
  target_addr: bigint;
  target_data: number;
  base_irq_id: number;
  num_irq: number;
  interrupt_count: number;
}

export interface zx_info_interrupt_t {
  options: number;
}

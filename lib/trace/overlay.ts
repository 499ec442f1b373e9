/**
 * A view of an object with some of its properties replaced: the recording views of a device, its
 * interrupts and its DMA are overlays, so everything else the backend's object has (EduDevice's
 * `powerCycle`, VfioDevice's `onRemovalRequest`, EmuIommu's `faults` …) still works through them and
 * `instanceof` still holds. Methods read through the overlay run on the object itself (private
 * fields need that), bound once per method.
 */
export function overlay<T extends object>(target: T, overrides: Readonly<Record<PropertyKey, unknown>>): T {
  const bound = new Map<PropertyKey, { readonly original: unknown; readonly bound: unknown }>();
  return new Proxy(target, {
    get(object, property) {
      if (Object.prototype.hasOwnProperty.call(overrides, property)) return overrides[property];
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      const known = bound.get(property);
      if (known !== undefined && known.original === value) return known.bound;
      const fresh = (value as (...args: unknown[]) => unknown).bind(object);
      bound.set(property, { original: value, bound: fresh });
      return fresh;
    },
    set(object, property, value) {
      return Reflect.set(object, property, value, object);
    },
  });
}

// The one implementation a binding registers for each exported interface, which the generated
// glue asks for on every call.

/** Holds what the entry file registered; asking before anything was registered traps with `missing`, which says what to call. */
export class Registration<T> {
  private value: T | null = null;

  constructor(private missing: string) {}

  set(value: T): void {
    this.value = value;
  }

  get(): T {
    const value = this.value;
    if (value === null) throw new Error(this.missing);
    return value;
  }
}

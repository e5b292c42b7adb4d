// No commands: base-fixture.ts runs its command classes directly.
export default {};

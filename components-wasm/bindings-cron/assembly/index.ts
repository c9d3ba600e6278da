// bindings.cron: the entry file. An input binding exports interfaces `binding` and `input`;
// the binding itself is in cron-binding.ts, its schedules in schedule.ts.
export * from "../../../sdk/assemblyscript/assembly/binding-exports";
export * from "../../../sdk/assemblyscript/assembly/input-exports";
import { registerInputBinding } from "../../../sdk/assemblyscript/assembly/binding";
import { CronBinding } from "./cron-binding";

registerInputBinding(new CronBinding());

// `polyprov phone …`: one phone. Minimal placeholder by the store helper so `phone show MAC`
// works; the virtual-phone helper owns this file and adds boot/run/set/contact.
import { registerPhoneShow } from './phone-show.ts';
import type { RegisterCommand } from './exit.ts';

export const register: RegisterCommand = (program, setExit) => {
  const phone = program.command('phone').description('one phone: show its inventory and boots');
  registerPhoneShow(phone, setExit);
};

/** A message that survives one navigation ("Your account is active. You can log in now."). */
let pending = null;

export function setFlash(text, kind = 'success') {
  pending = { text, kind };
}

export function takeFlash() {
  const flash = pending;
  pending = null;
  return flash;
}

/**
 * Passwords of 8+ characters that top the public breach lists (lower case). Checked in addition
 * to the length rule; kept as a TypeScript module so the compiled relay ships it without copying.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '1234567890', '0123456789', '12345678910', '123456789a', '1234567890a', 'a123456789', '0987654321',
  '1111111111', '0000000000', '1234512345', '1122334455', '1q2w3e4r5t', '1q2w3e4r5t6y', 'q1w2e3r4t5',
  'qwertyuiop', 'qwerty1234', 'qwerty12345', 'qwerty123456', 'qwertyuiop1', 'asdfghjkl1', 'asdfghjkl;',
  'zxcvbnm123', 'qazwsxedc1', 'qazwsxedcrfv', '1qaz2wsx3edc', 'zaq12wsxcde3', 'password', 'password1',
  'password12', 'password123', 'password1234', 'password!', 'password1!', 'password123!', 'passw0rd123',
  'p@ssw0rd123', 'p@ssword123', 'passwordpassword', 'mypassword', 'mypassword1', 'newpassword',
  'changeme123', 'changeme!!', 'letmein123', 'letmein1234', 'welcome123', 'welcome1234', 'welcome2024',
  'welcome2025', 'iloveyou12', 'iloveyou123', 'iloveyou!!', 'sunshine123', 'princess123', 'football123',
  'baseball123', 'basketball', 'basketball1', 'superman123', 'batman1234', 'starwars123', 'pokemon123',
  'dragon1234', 'monkey1234', 'master1234', 'shadow1234', 'michael123', 'jennifer123', 'charlie123',
  'trustno1234', 'abcdefghij', 'abcdefghijk', 'abcd123456', 'abc1234567', 'abc12345678', 'abcdef1234',
  'admin12345', 'admin123456', 'administrator', 'adminadmin', 'rootroot123', 'computer123', 'internet123',
  'secret1234', 'summer2024', 'summer2025', 'winter2024', 'winter2025', 'spring2025', 'autumn2025',
  'january2025', 'facebook123', 'facebook1234', 'qwerty123!', 'asdf123456', 'asdfasdfasdf', 'aaaaaa1111',
  '1234qwerty', '1234567890q', '123456789q', '123qweasdzxc', '123123123123', '1231231231', '147258369',
  '1472583690', '9876543210', '5555555555', '7777777777', '8888888888', '9999999999', '6666666666',
  'zzzzzzzzzz', 'iloveyou1234', 'football12', 'whatever123', 'loveyou123', 'hello12345', 'helloworld',
  'helloworld1', 'helloworld123', 'freedom123', 'flower1234', 'thomas1234', 'jordan2323', 'michelle123',
  'chocolate1', 'chocolate123', 'butterfly1', 'butterfly123', 'elephant123', 'corvette123', 'mustang123',
  'liverpool1', 'liverpool123', 'arsenal123', 'chelsea123', 'manchester', 'barcelona1', 'realmadrid',
  'opensesame', 'default123', 'testtest123', 'test123456', 'test1234567', 'testing123', 'guest12345',
  'openchannel', 'openchannel1', 'relay12345', 'contactcenter',
]);

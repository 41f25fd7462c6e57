import { RefusedAddresses } from './refused-addresses';

describe(RefusedAddresses.name, () => {
  const refused = new RefusedAddresses();

  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '[::1]',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'fec0::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::FFFF:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::7f00:1',
    '64:ff9b::192.168.0.1',
    '::127.0.0.1',
    '::7f00:1',
    '2001:db8::1',
  ])('should refuse %s when it is loopback, private, link-local or reserved', (address) => {
    expect(refused.has(address)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.32.0.1',
    '192.169.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::808:808',
  ])('should let %s through when it is a public address', (address) => {
    expect(refused.has(address)).toBe(false);
  });

  it.each(['localhost', 'example.com', '', '127.1', '1.2.3.4.5'])(
    'should refuse %j when it is not an IP address at all',
    (address) => {
      expect(refused.has(address)).toBe(true);
    },
  );
});

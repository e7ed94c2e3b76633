// OpenWhisk's hello action, unchanged: params in, a JSON object out.
function main(params) {
  const name = params.name || 'World';
  console.log(`greeting ${name}`);
  return { payload: `Hello, ${name}!` };
}

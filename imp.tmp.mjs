const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const t0 = cpu(); for (const m of process.argv.slice(2)) await import(m); console.log(process.argv.slice(2).join(' ').replace(/\/work\/wt\/startup\/dist\//g,''), (cpu()-t0).toFixed(0));

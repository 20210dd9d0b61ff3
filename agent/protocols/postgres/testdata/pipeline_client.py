# Hand-written frontend: pipelined extended-protocol groups, named portals,
# errors, COPY fail, notices, notifications. Drives the REAL server.
import socket,struct,sys
def msg(t,body=b""): return t+struct.pack(">I",len(body)+4)+body
def cs(s): return s.encode()+b"\0"
def parse(name,q): return msg(b"P",cs(name)+cs(q)+struct.pack(">h",0))
def bind(portal,stmt,params):
    b=cs(portal)+cs(stmt)+struct.pack(">h",0)+struct.pack(">h",len(params))
    for p in params: b+=struct.pack(">i",len(p))+p.encode()
    return msg(b"B",b+struct.pack(">h",0))
def execute(portal,maxrows=0): return msg(b"E",cs(portal)+struct.pack(">i",maxrows))
def describe(kind,name): return msg(b"D",kind+cs(name))
def close(kind,name): return msg(b"C",kind+cs(name))
SYNC=msg(b"S"); FLUSH=msg(b"H")
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])))
buf=b""
def read_until(pred):
    global buf
    while True:
        while len(buf)>=5:
            n=struct.unpack(">I",buf[1:5])[0]
            if len(buf)<1+n: break
            t=buf[0:1]; buf=buf[1+n:]
            if pred(t): return
        buf+=s.recv(65536)
def wait_z(k=1):
    c=[0]
    def p(t):
        if t==b"Z": c[0]+=1
        return c[0]>=k
    read_until(p)
st=struct.pack(">I",196608)+cs("user")+cs("wsraw")+cs("database")+cs("bench")+cs("application_name")+cs("wsraw")+b"\0"
s.sendall(struct.pack(">I",len(st)+4)+st); wait_z()
pipe=(parse("s1","SELECT aid, abalance FROM pgbench_accounts WHERE aid = $1")+bind("","s1",["7"])+execute("")+SYNC
     +bind("","s1",["8"])+execute("")+SYNC
     +parse("","SELECT * FROM nope WHERE x = $1")+bind("","",["1"])+execute("")+SYNC
     +parse("","UPDATE pgbench_accounts SET filler = 'x' WHERE aid IN (1, 2, 3)")+bind("","",[])+describe(b"P","")+execute("")+SYNC
     +parse("","")+bind("","",[])+execute("")+SYNC
     +parse("s2","SELECT aid FROM pgbench_accounts WHERE aid <= $1 ORDER BY aid")+bind("p1","s2",["3"])+execute("p1",2)+execute("p1",0)+close(b"P","p1")+close(b"S","s2")+SYNC)
s.sendall(pipe); wait_z(6)
s.sendall(msg(b"Q",cs("LISTEN ch; NOTIFY ch, 'hello'"))); wait_z()
s.sendall(msg(b"Q",cs("DO $$BEGIN RAISE NOTICE 'hi %', 42; END$$"))); wait_z()
s.sendall(parse("s3","SELECT $1::int + 1")+FLUSH); read_until(lambda t: t==b"1")
s.sendall(bind("","s3",["41"])+execute("")+SYNC); wait_z()
s.sendall(msg(b"Q",cs("COPY items FROM STDIN"))); read_until(lambda t: t==b"G")
s.sendall(msg(b"d",b"99\tx\t1\n")+msg(b"f",cs("client gave up"))); wait_z()
s.sendall(msg(b"X")); s.close()
